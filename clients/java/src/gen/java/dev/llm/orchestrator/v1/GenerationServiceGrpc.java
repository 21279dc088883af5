package dev.llm.orchestrator.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Generates text, code or structured data with whichever model fits the request.
 * </pre>
 */
@javax.annotation.Generated(
    value = "by gRPC proto compiler",
    comments = "Source: orchestrator/v1/generation.proto")
@io.grpc.stub.annotations.GrpcGenerated
public final class GenerationServiceGrpc {

  private GenerationServiceGrpc() {}

  public static final String SERVICE_NAME = "orchestrator.v1.GenerationService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.GenerateRequest,
      dev.llm.orchestrator.v1.GenerateResponse> getGenerateMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Generate",
      requestType = dev.llm.orchestrator.v1.GenerateRequest.class,
      responseType = dev.llm.orchestrator.v1.GenerateResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.GenerateRequest,
      dev.llm.orchestrator.v1.GenerateResponse> getGenerateMethod() {
    io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.GenerateRequest, dev.llm.orchestrator.v1.GenerateResponse> getGenerateMethod;
    if ((getGenerateMethod = GenerationServiceGrpc.getGenerateMethod) == null) {
      synchronized (GenerationServiceGrpc.class) {
        if ((getGenerateMethod = GenerationServiceGrpc.getGenerateMethod) == null) {
          GenerationServiceGrpc.getGenerateMethod = getGenerateMethod =
              io.grpc.MethodDescriptor.<dev.llm.orchestrator.v1.GenerateRequest, dev.llm.orchestrator.v1.GenerateResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Generate"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.llm.orchestrator.v1.GenerateRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.llm.orchestrator.v1.GenerateResponse.getDefaultInstance()))
              .setSchemaDescriptor(new GenerationServiceMethodDescriptorSupplier("Generate"))
              .build();
        }
      }
    }
    return getGenerateMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.GenerateRequest,
      dev.llm.orchestrator.v1.StreamGenerateResponse> getStreamGenerateMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "StreamGenerate",
      requestType = dev.llm.orchestrator.v1.GenerateRequest.class,
      responseType = dev.llm.orchestrator.v1.StreamGenerateResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
  public static io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.GenerateRequest,
      dev.llm.orchestrator.v1.StreamGenerateResponse> getStreamGenerateMethod() {
    io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.GenerateRequest, dev.llm.orchestrator.v1.StreamGenerateResponse> getStreamGenerateMethod;
    if ((getStreamGenerateMethod = GenerationServiceGrpc.getStreamGenerateMethod) == null) {
      synchronized (GenerationServiceGrpc.class) {
        if ((getStreamGenerateMethod = GenerationServiceGrpc.getStreamGenerateMethod) == null) {
          GenerationServiceGrpc.getStreamGenerateMethod = getStreamGenerateMethod =
              io.grpc.MethodDescriptor.<dev.llm.orchestrator.v1.GenerateRequest, dev.llm.orchestrator.v1.StreamGenerateResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "StreamGenerate"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.llm.orchestrator.v1.GenerateRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.llm.orchestrator.v1.StreamGenerateResponse.getDefaultInstance()))
              .setSchemaDescriptor(new GenerationServiceMethodDescriptorSupplier("StreamGenerate"))
              .build();
        }
      }
    }
    return getStreamGenerateMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.CountTokensRequest,
      dev.llm.orchestrator.v1.CountTokensResponse> getCountTokensMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CountTokens",
      requestType = dev.llm.orchestrator.v1.CountTokensRequest.class,
      responseType = dev.llm.orchestrator.v1.CountTokensResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.CountTokensRequest,
      dev.llm.orchestrator.v1.CountTokensResponse> getCountTokensMethod() {
    io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.CountTokensRequest, dev.llm.orchestrator.v1.CountTokensResponse> getCountTokensMethod;
    if ((getCountTokensMethod = GenerationServiceGrpc.getCountTokensMethod) == null) {
      synchronized (GenerationServiceGrpc.class) {
        if ((getCountTokensMethod = GenerationServiceGrpc.getCountTokensMethod) == null) {
          GenerationServiceGrpc.getCountTokensMethod = getCountTokensMethod =
              io.grpc.MethodDescriptor.<dev.llm.orchestrator.v1.CountTokensRequest, dev.llm.orchestrator.v1.CountTokensResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CountTokens"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.llm.orchestrator.v1.CountTokensRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.llm.orchestrator.v1.CountTokensResponse.getDefaultInstance()))
              .setSchemaDescriptor(new GenerationServiceMethodDescriptorSupplier("CountTokens"))
              .build();
        }
      }
    }
    return getCountTokensMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.ListModelsRequest,
      dev.llm.orchestrator.v1.ListModelsResponse> getListModelsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListModels",
      requestType = dev.llm.orchestrator.v1.ListModelsRequest.class,
      responseType = dev.llm.orchestrator.v1.ListModelsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.ListModelsRequest,
      dev.llm.orchestrator.v1.ListModelsResponse> getListModelsMethod() {
    io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.ListModelsRequest, dev.llm.orchestrator.v1.ListModelsResponse> getListModelsMethod;
    if ((getListModelsMethod = GenerationServiceGrpc.getListModelsMethod) == null) {
      synchronized (GenerationServiceGrpc.class) {
        if ((getListModelsMethod = GenerationServiceGrpc.getListModelsMethod) == null) {
          GenerationServiceGrpc.getListModelsMethod = getListModelsMethod =
              io.grpc.MethodDescriptor.<dev.llm.orchestrator.v1.ListModelsRequest, dev.llm.orchestrator.v1.ListModelsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListModels"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.llm.orchestrator.v1.ListModelsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.llm.orchestrator.v1.ListModelsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new GenerationServiceMethodDescriptorSupplier("ListModels"))
              .build();
        }
      }
    }
    return getListModelsMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static GenerationServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<GenerationServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<GenerationServiceStub>() {
        @java.lang.Override
        public GenerationServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new GenerationServiceStub(channel, callOptions);
        }
      };
    return GenerationServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static GenerationServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<GenerationServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<GenerationServiceBlockingStub>() {
        @java.lang.Override
        public GenerationServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new GenerationServiceBlockingStub(channel, callOptions);
        }
      };
    return GenerationServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static GenerationServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<GenerationServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<GenerationServiceFutureStub>() {
        @java.lang.Override
        public GenerationServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new GenerationServiceFutureStub(channel, callOptions);
        }
      };
    return GenerationServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Generates text, code or structured data with whichever model fits the request.
   * </pre>
   */
  public static abstract class GenerationServiceImplBase implements io.grpc.BindableService {

    /**
     * <pre>
     * Renders the prompt, picks a model, calls it and returns the whole answer at once.
     * </pre>
     */
    public void generate(dev.llm.orchestrator.v1.GenerateRequest request,
        io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.GenerateResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGenerateMethod(), responseObserver);
    }

    /**
     * <pre>
     * Same request as Generate; the answer streams as a start event, text deltas and a final event.
     * An error before the first delta is a gRPC status; a failure after it ends the stream with a
     * non-OK status, never with an OK status and truncated text.
     * </pre>
     */
    public void streamGenerate(dev.llm.orchestrator.v1.GenerateRequest request,
        io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.StreamGenerateResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getStreamGenerateMethod(), responseObserver);
    }

    /**
     * <pre>
     * Counts the tokens of messages or text with a model's own tokenizer (no model call).
     * </pre>
     */
    public void countTokens(dev.llm.orchestrator.v1.CountTokensRequest request,
        io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.CountTokensResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCountTokensMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lists every configured model with its limits, prices, capabilities and availability.
     * </pre>
     */
    public void listModels(dev.llm.orchestrator.v1.ListModelsRequest request,
        io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.ListModelsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListModelsMethod(), responseObserver);
    }

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
          .addMethod(
            getGenerateMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                dev.llm.orchestrator.v1.GenerateRequest,
                dev.llm.orchestrator.v1.GenerateResponse>(
                  this, METHODID_GENERATE)))
          .addMethod(
            getStreamGenerateMethod(),
            io.grpc.stub.ServerCalls.asyncServerStreamingCall(
              new MethodHandlers<
                dev.llm.orchestrator.v1.GenerateRequest,
                dev.llm.orchestrator.v1.StreamGenerateResponse>(
                  this, METHODID_STREAM_GENERATE)))
          .addMethod(
            getCountTokensMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                dev.llm.orchestrator.v1.CountTokensRequest,
                dev.llm.orchestrator.v1.CountTokensResponse>(
                  this, METHODID_COUNT_TOKENS)))
          .addMethod(
            getListModelsMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                dev.llm.orchestrator.v1.ListModelsRequest,
                dev.llm.orchestrator.v1.ListModelsResponse>(
                  this, METHODID_LIST_MODELS)))
          .build();
    }
  }

  /**
   * <pre>
   * Generates text, code or structured data with whichever model fits the request.
   * </pre>
   */
  public static final class GenerationServiceStub extends io.grpc.stub.AbstractAsyncStub<GenerationServiceStub> {
    private GenerationServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected GenerationServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new GenerationServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Renders the prompt, picks a model, calls it and returns the whole answer at once.
     * </pre>
     */
    public void generate(dev.llm.orchestrator.v1.GenerateRequest request,
        io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.GenerateResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGenerateMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Same request as Generate; the answer streams as a start event, text deltas and a final event.
     * An error before the first delta is a gRPC status; a failure after it ends the stream with a
     * non-OK status, never with an OK status and truncated text.
     * </pre>
     */
    public void streamGenerate(dev.llm.orchestrator.v1.GenerateRequest request,
        io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.StreamGenerateResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncServerStreamingCall(
          getChannel().newCall(getStreamGenerateMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Counts the tokens of messages or text with a model's own tokenizer (no model call).
     * </pre>
     */
    public void countTokens(dev.llm.orchestrator.v1.CountTokensRequest request,
        io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.CountTokensResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCountTokensMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lists every configured model with its limits, prices, capabilities and availability.
     * </pre>
     */
    public void listModels(dev.llm.orchestrator.v1.ListModelsRequest request,
        io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.ListModelsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListModelsMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * <pre>
   * Generates text, code or structured data with whichever model fits the request.
   * </pre>
   */
  public static final class GenerationServiceBlockingStub extends io.grpc.stub.AbstractBlockingStub<GenerationServiceBlockingStub> {
    private GenerationServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected GenerationServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new GenerationServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Renders the prompt, picks a model, calls it and returns the whole answer at once.
     * </pre>
     */
    public dev.llm.orchestrator.v1.GenerateResponse generate(dev.llm.orchestrator.v1.GenerateRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGenerateMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Same request as Generate; the answer streams as a start event, text deltas and a final event.
     * An error before the first delta is a gRPC status; a failure after it ends the stream with a
     * non-OK status, never with an OK status and truncated text.
     * </pre>
     */
    public java.util.Iterator<dev.llm.orchestrator.v1.StreamGenerateResponse> streamGenerate(
        dev.llm.orchestrator.v1.GenerateRequest request) {
      return io.grpc.stub.ClientCalls.blockingServerStreamingCall(
          getChannel(), getStreamGenerateMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Counts the tokens of messages or text with a model's own tokenizer (no model call).
     * </pre>
     */
    public dev.llm.orchestrator.v1.CountTokensResponse countTokens(dev.llm.orchestrator.v1.CountTokensRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCountTokensMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists every configured model with its limits, prices, capabilities and availability.
     * </pre>
     */
    public dev.llm.orchestrator.v1.ListModelsResponse listModels(dev.llm.orchestrator.v1.ListModelsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListModelsMethod(), getCallOptions(), request);
    }
  }

  /**
   * <pre>
   * Generates text, code or structured data with whichever model fits the request.
   * </pre>
   */
  public static final class GenerationServiceFutureStub extends io.grpc.stub.AbstractFutureStub<GenerationServiceFutureStub> {
    private GenerationServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected GenerationServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new GenerationServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Renders the prompt, picks a model, calls it and returns the whole answer at once.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.llm.orchestrator.v1.GenerateResponse> generate(
        dev.llm.orchestrator.v1.GenerateRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGenerateMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Counts the tokens of messages or text with a model's own tokenizer (no model call).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.llm.orchestrator.v1.CountTokensResponse> countTokens(
        dev.llm.orchestrator.v1.CountTokensRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCountTokensMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lists every configured model with its limits, prices, capabilities and availability.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.llm.orchestrator.v1.ListModelsResponse> listModels(
        dev.llm.orchestrator.v1.ListModelsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListModelsMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_GENERATE = 0;
  private static final int METHODID_STREAM_GENERATE = 1;
  private static final int METHODID_COUNT_TOKENS = 2;
  private static final int METHODID_LIST_MODELS = 3;

  private static final class MethodHandlers<Req, Resp> implements
      io.grpc.stub.ServerCalls.UnaryMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ServerStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ClientStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.BidiStreamingMethod<Req, Resp> {
    private final GenerationServiceImplBase serviceImpl;
    private final int methodId;

    MethodHandlers(GenerationServiceImplBase serviceImpl, int methodId) {
      this.serviceImpl = serviceImpl;
      this.methodId = methodId;
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public void invoke(Req request, io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_GENERATE:
          serviceImpl.generate((dev.llm.orchestrator.v1.GenerateRequest) request,
              (io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.GenerateResponse>) responseObserver);
          break;
        case METHODID_STREAM_GENERATE:
          serviceImpl.streamGenerate((dev.llm.orchestrator.v1.GenerateRequest) request,
              (io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.StreamGenerateResponse>) responseObserver);
          break;
        case METHODID_COUNT_TOKENS:
          serviceImpl.countTokens((dev.llm.orchestrator.v1.CountTokensRequest) request,
              (io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.CountTokensResponse>) responseObserver);
          break;
        case METHODID_LIST_MODELS:
          serviceImpl.listModels((dev.llm.orchestrator.v1.ListModelsRequest) request,
              (io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.ListModelsResponse>) responseObserver);
          break;
        default:
          throw new AssertionError();
      }
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public io.grpc.stub.StreamObserver<Req> invoke(
        io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        default:
          throw new AssertionError();
      }
    }
  }

  private static abstract class GenerationServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    GenerationServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return dev.llm.orchestrator.v1.GenerationProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("GenerationService");
    }
  }

  private static final class GenerationServiceFileDescriptorSupplier
      extends GenerationServiceBaseDescriptorSupplier {
    GenerationServiceFileDescriptorSupplier() {}
  }

  private static final class GenerationServiceMethodDescriptorSupplier
      extends GenerationServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final String methodName;

    GenerationServiceMethodDescriptorSupplier(String methodName) {
      this.methodName = methodName;
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.MethodDescriptor getMethodDescriptor() {
      return getServiceDescriptor().findMethodByName(methodName);
    }
  }

  private static volatile io.grpc.ServiceDescriptor serviceDescriptor;

  public static io.grpc.ServiceDescriptor getServiceDescriptor() {
    io.grpc.ServiceDescriptor result = serviceDescriptor;
    if (result == null) {
      synchronized (GenerationServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new GenerationServiceFileDescriptorSupplier())
              .addMethod(getGenerateMethod())
              .addMethod(getStreamGenerateMethod())
              .addMethod(getCountTokensMethod())
              .addMethod(getListModelsMethod())
              .build();
        }
      }
    }
    return result;
  }
}
