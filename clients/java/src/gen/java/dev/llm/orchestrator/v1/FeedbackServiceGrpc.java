package dev.llm.orchestrator.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Feedback on answers: how good a calling service found one of its own answers. Each answer's request
 * (model, template version, task type, cost) is recorded when it completes; feedback joins it and feeds
 * the prompt-experiment report (`orchestrator experiments report --task T`).
 * </pre>
 */
@javax.annotation.Generated(
    value = "by gRPC proto compiler",
    comments = "Source: orchestrator/v1/feedback.proto")
@io.grpc.stub.annotations.GrpcGenerated
public final class FeedbackServiceGrpc {

  private FeedbackServiceGrpc() {}

  public static final String SERVICE_NAME = "orchestrator.v1.FeedbackService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.RecordFeedbackRequest,
      dev.llm.orchestrator.v1.RecordFeedbackResponse> getRecordFeedbackMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "RecordFeedback",
      requestType = dev.llm.orchestrator.v1.RecordFeedbackRequest.class,
      responseType = dev.llm.orchestrator.v1.RecordFeedbackResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.RecordFeedbackRequest,
      dev.llm.orchestrator.v1.RecordFeedbackResponse> getRecordFeedbackMethod() {
    io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.RecordFeedbackRequest, dev.llm.orchestrator.v1.RecordFeedbackResponse> getRecordFeedbackMethod;
    if ((getRecordFeedbackMethod = FeedbackServiceGrpc.getRecordFeedbackMethod) == null) {
      synchronized (FeedbackServiceGrpc.class) {
        if ((getRecordFeedbackMethod = FeedbackServiceGrpc.getRecordFeedbackMethod) == null) {
          FeedbackServiceGrpc.getRecordFeedbackMethod = getRecordFeedbackMethod =
              io.grpc.MethodDescriptor.<dev.llm.orchestrator.v1.RecordFeedbackRequest, dev.llm.orchestrator.v1.RecordFeedbackResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "RecordFeedback"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.llm.orchestrator.v1.RecordFeedbackRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.llm.orchestrator.v1.RecordFeedbackResponse.getDefaultInstance()))
              .setSchemaDescriptor(new FeedbackServiceMethodDescriptorSupplier("RecordFeedback"))
              .build();
        }
      }
    }
    return getRecordFeedbackMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static FeedbackServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<FeedbackServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<FeedbackServiceStub>() {
        @java.lang.Override
        public FeedbackServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new FeedbackServiceStub(channel, callOptions);
        }
      };
    return FeedbackServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static FeedbackServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<FeedbackServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<FeedbackServiceBlockingStub>() {
        @java.lang.Override
        public FeedbackServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new FeedbackServiceBlockingStub(channel, callOptions);
        }
      };
    return FeedbackServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static FeedbackServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<FeedbackServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<FeedbackServiceFutureStub>() {
        @java.lang.Override
        public FeedbackServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new FeedbackServiceFutureStub(channel, callOptions);
        }
      };
    return FeedbackServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Feedback on answers: how good a calling service found one of its own answers. Each answer's request
   * (model, template version, task type, cost) is recorded when it completes; feedback joins it and feeds
   * the prompt-experiment report (`orchestrator experiments report --task T`).
   * </pre>
   */
  public static abstract class FeedbackServiceImplBase implements io.grpc.BindableService {

    /**
     * <pre>
     * Records a score or a label for one of the caller's own requests; feedback sent again for the same
     * request replaces the earlier one. A request id the calling service did not use (or no longer
     * recorded) is NOT_FOUND (REQUEST_NOT_FOUND), whether or not another service used it.
     * </pre>
     */
    public void recordFeedback(dev.llm.orchestrator.v1.RecordFeedbackRequest request,
        io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.RecordFeedbackResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getRecordFeedbackMethod(), responseObserver);
    }

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
          .addMethod(
            getRecordFeedbackMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                dev.llm.orchestrator.v1.RecordFeedbackRequest,
                dev.llm.orchestrator.v1.RecordFeedbackResponse>(
                  this, METHODID_RECORD_FEEDBACK)))
          .build();
    }
  }

  /**
   * <pre>
   * Feedback on answers: how good a calling service found one of its own answers. Each answer's request
   * (model, template version, task type, cost) is recorded when it completes; feedback joins it and feeds
   * the prompt-experiment report (`orchestrator experiments report --task T`).
   * </pre>
   */
  public static final class FeedbackServiceStub extends io.grpc.stub.AbstractAsyncStub<FeedbackServiceStub> {
    private FeedbackServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected FeedbackServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new FeedbackServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Records a score or a label for one of the caller's own requests; feedback sent again for the same
     * request replaces the earlier one. A request id the calling service did not use (or no longer
     * recorded) is NOT_FOUND (REQUEST_NOT_FOUND), whether or not another service used it.
     * </pre>
     */
    public void recordFeedback(dev.llm.orchestrator.v1.RecordFeedbackRequest request,
        io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.RecordFeedbackResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getRecordFeedbackMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * <pre>
   * Feedback on answers: how good a calling service found one of its own answers. Each answer's request
   * (model, template version, task type, cost) is recorded when it completes; feedback joins it and feeds
   * the prompt-experiment report (`orchestrator experiments report --task T`).
   * </pre>
   */
  public static final class FeedbackServiceBlockingStub extends io.grpc.stub.AbstractBlockingStub<FeedbackServiceBlockingStub> {
    private FeedbackServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected FeedbackServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new FeedbackServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Records a score or a label for one of the caller's own requests; feedback sent again for the same
     * request replaces the earlier one. A request id the calling service did not use (or no longer
     * recorded) is NOT_FOUND (REQUEST_NOT_FOUND), whether or not another service used it.
     * </pre>
     */
    public dev.llm.orchestrator.v1.RecordFeedbackResponse recordFeedback(dev.llm.orchestrator.v1.RecordFeedbackRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getRecordFeedbackMethod(), getCallOptions(), request);
    }
  }

  /**
   * <pre>
   * Feedback on answers: how good a calling service found one of its own answers. Each answer's request
   * (model, template version, task type, cost) is recorded when it completes; feedback joins it and feeds
   * the prompt-experiment report (`orchestrator experiments report --task T`).
   * </pre>
   */
  public static final class FeedbackServiceFutureStub extends io.grpc.stub.AbstractFutureStub<FeedbackServiceFutureStub> {
    private FeedbackServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected FeedbackServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new FeedbackServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Records a score or a label for one of the caller's own requests; feedback sent again for the same
     * request replaces the earlier one. A request id the calling service did not use (or no longer
     * recorded) is NOT_FOUND (REQUEST_NOT_FOUND), whether or not another service used it.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.llm.orchestrator.v1.RecordFeedbackResponse> recordFeedback(
        dev.llm.orchestrator.v1.RecordFeedbackRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getRecordFeedbackMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_RECORD_FEEDBACK = 0;

  private static final class MethodHandlers<Req, Resp> implements
      io.grpc.stub.ServerCalls.UnaryMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ServerStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ClientStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.BidiStreamingMethod<Req, Resp> {
    private final FeedbackServiceImplBase serviceImpl;
    private final int methodId;

    MethodHandlers(FeedbackServiceImplBase serviceImpl, int methodId) {
      this.serviceImpl = serviceImpl;
      this.methodId = methodId;
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public void invoke(Req request, io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_RECORD_FEEDBACK:
          serviceImpl.recordFeedback((dev.llm.orchestrator.v1.RecordFeedbackRequest) request,
              (io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.RecordFeedbackResponse>) responseObserver);
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

  private static abstract class FeedbackServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    FeedbackServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return dev.llm.orchestrator.v1.FeedbackProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("FeedbackService");
    }
  }

  private static final class FeedbackServiceFileDescriptorSupplier
      extends FeedbackServiceBaseDescriptorSupplier {
    FeedbackServiceFileDescriptorSupplier() {}
  }

  private static final class FeedbackServiceMethodDescriptorSupplier
      extends FeedbackServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final String methodName;

    FeedbackServiceMethodDescriptorSupplier(String methodName) {
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
      synchronized (FeedbackServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new FeedbackServiceFileDescriptorSupplier())
              .addMethod(getRecordFeedbackMethod())
              .build();
        }
      }
    }
    return result;
  }
}
