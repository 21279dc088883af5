package dev.llm.orchestrator.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Registers, versions and renders prompt templates.
 * </pre>
 */
@javax.annotation.Generated(
    value = "by gRPC proto compiler",
    comments = "Source: orchestrator/v1/templates.proto")
@io.grpc.stub.annotations.GrpcGenerated
public final class TemplateServiceGrpc {

  private TemplateServiceGrpc() {}

  public static final String SERVICE_NAME = "orchestrator.v1.TemplateService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.CreateTemplateRequest,
      dev.llm.orchestrator.v1.CreateTemplateResponse> getCreateTemplateMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CreateTemplate",
      requestType = dev.llm.orchestrator.v1.CreateTemplateRequest.class,
      responseType = dev.llm.orchestrator.v1.CreateTemplateResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.CreateTemplateRequest,
      dev.llm.orchestrator.v1.CreateTemplateResponse> getCreateTemplateMethod() {
    io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.CreateTemplateRequest, dev.llm.orchestrator.v1.CreateTemplateResponse> getCreateTemplateMethod;
    if ((getCreateTemplateMethod = TemplateServiceGrpc.getCreateTemplateMethod) == null) {
      synchronized (TemplateServiceGrpc.class) {
        if ((getCreateTemplateMethod = TemplateServiceGrpc.getCreateTemplateMethod) == null) {
          TemplateServiceGrpc.getCreateTemplateMethod = getCreateTemplateMethod =
              io.grpc.MethodDescriptor.<dev.llm.orchestrator.v1.CreateTemplateRequest, dev.llm.orchestrator.v1.CreateTemplateResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CreateTemplate"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.llm.orchestrator.v1.CreateTemplateRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.llm.orchestrator.v1.CreateTemplateResponse.getDefaultInstance()))
              .setSchemaDescriptor(new TemplateServiceMethodDescriptorSupplier("CreateTemplate"))
              .build();
        }
      }
    }
    return getCreateTemplateMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.GetTemplateRequest,
      dev.llm.orchestrator.v1.GetTemplateResponse> getGetTemplateMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetTemplate",
      requestType = dev.llm.orchestrator.v1.GetTemplateRequest.class,
      responseType = dev.llm.orchestrator.v1.GetTemplateResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.GetTemplateRequest,
      dev.llm.orchestrator.v1.GetTemplateResponse> getGetTemplateMethod() {
    io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.GetTemplateRequest, dev.llm.orchestrator.v1.GetTemplateResponse> getGetTemplateMethod;
    if ((getGetTemplateMethod = TemplateServiceGrpc.getGetTemplateMethod) == null) {
      synchronized (TemplateServiceGrpc.class) {
        if ((getGetTemplateMethod = TemplateServiceGrpc.getGetTemplateMethod) == null) {
          TemplateServiceGrpc.getGetTemplateMethod = getGetTemplateMethod =
              io.grpc.MethodDescriptor.<dev.llm.orchestrator.v1.GetTemplateRequest, dev.llm.orchestrator.v1.GetTemplateResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetTemplate"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.llm.orchestrator.v1.GetTemplateRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.llm.orchestrator.v1.GetTemplateResponse.getDefaultInstance()))
              .setSchemaDescriptor(new TemplateServiceMethodDescriptorSupplier("GetTemplate"))
              .build();
        }
      }
    }
    return getGetTemplateMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.ListTemplatesRequest,
      dev.llm.orchestrator.v1.ListTemplatesResponse> getListTemplatesMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListTemplates",
      requestType = dev.llm.orchestrator.v1.ListTemplatesRequest.class,
      responseType = dev.llm.orchestrator.v1.ListTemplatesResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.ListTemplatesRequest,
      dev.llm.orchestrator.v1.ListTemplatesResponse> getListTemplatesMethod() {
    io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.ListTemplatesRequest, dev.llm.orchestrator.v1.ListTemplatesResponse> getListTemplatesMethod;
    if ((getListTemplatesMethod = TemplateServiceGrpc.getListTemplatesMethod) == null) {
      synchronized (TemplateServiceGrpc.class) {
        if ((getListTemplatesMethod = TemplateServiceGrpc.getListTemplatesMethod) == null) {
          TemplateServiceGrpc.getListTemplatesMethod = getListTemplatesMethod =
              io.grpc.MethodDescriptor.<dev.llm.orchestrator.v1.ListTemplatesRequest, dev.llm.orchestrator.v1.ListTemplatesResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListTemplates"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.llm.orchestrator.v1.ListTemplatesRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.llm.orchestrator.v1.ListTemplatesResponse.getDefaultInstance()))
              .setSchemaDescriptor(new TemplateServiceMethodDescriptorSupplier("ListTemplates"))
              .build();
        }
      }
    }
    return getListTemplatesMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.RenderTemplateRequest,
      dev.llm.orchestrator.v1.RenderTemplateResponse> getRenderTemplateMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "RenderTemplate",
      requestType = dev.llm.orchestrator.v1.RenderTemplateRequest.class,
      responseType = dev.llm.orchestrator.v1.RenderTemplateResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.RenderTemplateRequest,
      dev.llm.orchestrator.v1.RenderTemplateResponse> getRenderTemplateMethod() {
    io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.RenderTemplateRequest, dev.llm.orchestrator.v1.RenderTemplateResponse> getRenderTemplateMethod;
    if ((getRenderTemplateMethod = TemplateServiceGrpc.getRenderTemplateMethod) == null) {
      synchronized (TemplateServiceGrpc.class) {
        if ((getRenderTemplateMethod = TemplateServiceGrpc.getRenderTemplateMethod) == null) {
          TemplateServiceGrpc.getRenderTemplateMethod = getRenderTemplateMethod =
              io.grpc.MethodDescriptor.<dev.llm.orchestrator.v1.RenderTemplateRequest, dev.llm.orchestrator.v1.RenderTemplateResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "RenderTemplate"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.llm.orchestrator.v1.RenderTemplateRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.llm.orchestrator.v1.RenderTemplateResponse.getDefaultInstance()))
              .setSchemaDescriptor(new TemplateServiceMethodDescriptorSupplier("RenderTemplate"))
              .build();
        }
      }
    }
    return getRenderTemplateMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.DeleteTemplateRequest,
      dev.llm.orchestrator.v1.DeleteTemplateResponse> getDeleteTemplateMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "DeleteTemplate",
      requestType = dev.llm.orchestrator.v1.DeleteTemplateRequest.class,
      responseType = dev.llm.orchestrator.v1.DeleteTemplateResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.DeleteTemplateRequest,
      dev.llm.orchestrator.v1.DeleteTemplateResponse> getDeleteTemplateMethod() {
    io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.DeleteTemplateRequest, dev.llm.orchestrator.v1.DeleteTemplateResponse> getDeleteTemplateMethod;
    if ((getDeleteTemplateMethod = TemplateServiceGrpc.getDeleteTemplateMethod) == null) {
      synchronized (TemplateServiceGrpc.class) {
        if ((getDeleteTemplateMethod = TemplateServiceGrpc.getDeleteTemplateMethod) == null) {
          TemplateServiceGrpc.getDeleteTemplateMethod = getDeleteTemplateMethod =
              io.grpc.MethodDescriptor.<dev.llm.orchestrator.v1.DeleteTemplateRequest, dev.llm.orchestrator.v1.DeleteTemplateResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "DeleteTemplate"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.llm.orchestrator.v1.DeleteTemplateRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.llm.orchestrator.v1.DeleteTemplateResponse.getDefaultInstance()))
              .setSchemaDescriptor(new TemplateServiceMethodDescriptorSupplier("DeleteTemplate"))
              .build();
        }
      }
    }
    return getDeleteTemplateMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static TemplateServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<TemplateServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<TemplateServiceStub>() {
        @java.lang.Override
        public TemplateServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new TemplateServiceStub(channel, callOptions);
        }
      };
    return TemplateServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static TemplateServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<TemplateServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<TemplateServiceBlockingStub>() {
        @java.lang.Override
        public TemplateServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new TemplateServiceBlockingStub(channel, callOptions);
        }
      };
    return TemplateServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static TemplateServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<TemplateServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<TemplateServiceFutureStub>() {
        @java.lang.Override
        public TemplateServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new TemplateServiceFutureStub(channel, callOptions);
        }
      };
    return TemplateServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Registers, versions and renders prompt templates.
   * </pre>
   */
  public static abstract class TemplateServiceImplBase implements io.grpc.BindableService {

    /**
     * <pre>
     * Registers a template. An existing id gets a new immutable version.
     * </pre>
     */
    public void createTemplate(dev.llm.orchestrator.v1.CreateTemplateRequest request,
        io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.CreateTemplateResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCreateTemplateMethod(), responseObserver);
    }

    /**
     * <pre>
     * Returns one version of a template (the latest when no version is given).
     * </pre>
     */
    public void getTemplate(dev.llm.orchestrator.v1.GetTemplateRequest request,
        io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.GetTemplateResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetTemplateMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lists the latest version of each template, a page at a time, ordered by template id.
     * </pre>
     */
    public void listTemplates(dev.llm.orchestrator.v1.ListTemplatesRequest request,
        io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.ListTemplatesResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListTemplatesMethod(), responseObserver);
    }

    /**
     * <pre>
     * Dry run: renders a template with variables and counts the tokens; no model is called.
     * </pre>
     */
    public void renderTemplate(dev.llm.orchestrator.v1.RenderTemplateRequest request,
        io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.RenderTemplateResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getRenderTemplateMethod(), responseObserver);
    }

    /**
     * <pre>
     * Deletes a template (every version) or one version of it.
     * </pre>
     */
    public void deleteTemplate(dev.llm.orchestrator.v1.DeleteTemplateRequest request,
        io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.DeleteTemplateResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getDeleteTemplateMethod(), responseObserver);
    }

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
          .addMethod(
            getCreateTemplateMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                dev.llm.orchestrator.v1.CreateTemplateRequest,
                dev.llm.orchestrator.v1.CreateTemplateResponse>(
                  this, METHODID_CREATE_TEMPLATE)))
          .addMethod(
            getGetTemplateMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                dev.llm.orchestrator.v1.GetTemplateRequest,
                dev.llm.orchestrator.v1.GetTemplateResponse>(
                  this, METHODID_GET_TEMPLATE)))
          .addMethod(
            getListTemplatesMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                dev.llm.orchestrator.v1.ListTemplatesRequest,
                dev.llm.orchestrator.v1.ListTemplatesResponse>(
                  this, METHODID_LIST_TEMPLATES)))
          .addMethod(
            getRenderTemplateMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                dev.llm.orchestrator.v1.RenderTemplateRequest,
                dev.llm.orchestrator.v1.RenderTemplateResponse>(
                  this, METHODID_RENDER_TEMPLATE)))
          .addMethod(
            getDeleteTemplateMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                dev.llm.orchestrator.v1.DeleteTemplateRequest,
                dev.llm.orchestrator.v1.DeleteTemplateResponse>(
                  this, METHODID_DELETE_TEMPLATE)))
          .build();
    }
  }

  /**
   * <pre>
   * Registers, versions and renders prompt templates.
   * </pre>
   */
  public static final class TemplateServiceStub extends io.grpc.stub.AbstractAsyncStub<TemplateServiceStub> {
    private TemplateServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected TemplateServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new TemplateServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Registers a template. An existing id gets a new immutable version.
     * </pre>
     */
    public void createTemplate(dev.llm.orchestrator.v1.CreateTemplateRequest request,
        io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.CreateTemplateResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCreateTemplateMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Returns one version of a template (the latest when no version is given).
     * </pre>
     */
    public void getTemplate(dev.llm.orchestrator.v1.GetTemplateRequest request,
        io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.GetTemplateResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetTemplateMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lists the latest version of each template, a page at a time, ordered by template id.
     * </pre>
     */
    public void listTemplates(dev.llm.orchestrator.v1.ListTemplatesRequest request,
        io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.ListTemplatesResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListTemplatesMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Dry run: renders a template with variables and counts the tokens; no model is called.
     * </pre>
     */
    public void renderTemplate(dev.llm.orchestrator.v1.RenderTemplateRequest request,
        io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.RenderTemplateResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getRenderTemplateMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Deletes a template (every version) or one version of it.
     * </pre>
     */
    public void deleteTemplate(dev.llm.orchestrator.v1.DeleteTemplateRequest request,
        io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.DeleteTemplateResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getDeleteTemplateMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * <pre>
   * Registers, versions and renders prompt templates.
   * </pre>
   */
  public static final class TemplateServiceBlockingStub extends io.grpc.stub.AbstractBlockingStub<TemplateServiceBlockingStub> {
    private TemplateServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected TemplateServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new TemplateServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Registers a template. An existing id gets a new immutable version.
     * </pre>
     */
    public dev.llm.orchestrator.v1.CreateTemplateResponse createTemplate(dev.llm.orchestrator.v1.CreateTemplateRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCreateTemplateMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Returns one version of a template (the latest when no version is given).
     * </pre>
     */
    public dev.llm.orchestrator.v1.GetTemplateResponse getTemplate(dev.llm.orchestrator.v1.GetTemplateRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetTemplateMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists the latest version of each template, a page at a time, ordered by template id.
     * </pre>
     */
    public dev.llm.orchestrator.v1.ListTemplatesResponse listTemplates(dev.llm.orchestrator.v1.ListTemplatesRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListTemplatesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Dry run: renders a template with variables and counts the tokens; no model is called.
     * </pre>
     */
    public dev.llm.orchestrator.v1.RenderTemplateResponse renderTemplate(dev.llm.orchestrator.v1.RenderTemplateRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getRenderTemplateMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes a template (every version) or one version of it.
     * </pre>
     */
    public dev.llm.orchestrator.v1.DeleteTemplateResponse deleteTemplate(dev.llm.orchestrator.v1.DeleteTemplateRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getDeleteTemplateMethod(), getCallOptions(), request);
    }
  }

  /**
   * <pre>
   * Registers, versions and renders prompt templates.
   * </pre>
   */
  public static final class TemplateServiceFutureStub extends io.grpc.stub.AbstractFutureStub<TemplateServiceFutureStub> {
    private TemplateServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected TemplateServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new TemplateServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Registers a template. An existing id gets a new immutable version.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.llm.orchestrator.v1.CreateTemplateResponse> createTemplate(
        dev.llm.orchestrator.v1.CreateTemplateRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCreateTemplateMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Returns one version of a template (the latest when no version is given).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.llm.orchestrator.v1.GetTemplateResponse> getTemplate(
        dev.llm.orchestrator.v1.GetTemplateRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetTemplateMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lists the latest version of each template, a page at a time, ordered by template id.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.llm.orchestrator.v1.ListTemplatesResponse> listTemplates(
        dev.llm.orchestrator.v1.ListTemplatesRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListTemplatesMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Dry run: renders a template with variables and counts the tokens; no model is called.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.llm.orchestrator.v1.RenderTemplateResponse> renderTemplate(
        dev.llm.orchestrator.v1.RenderTemplateRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getRenderTemplateMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Deletes a template (every version) or one version of it.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.llm.orchestrator.v1.DeleteTemplateResponse> deleteTemplate(
        dev.llm.orchestrator.v1.DeleteTemplateRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getDeleteTemplateMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_CREATE_TEMPLATE = 0;
  private static final int METHODID_GET_TEMPLATE = 1;
  private static final int METHODID_LIST_TEMPLATES = 2;
  private static final int METHODID_RENDER_TEMPLATE = 3;
  private static final int METHODID_DELETE_TEMPLATE = 4;

  private static final class MethodHandlers<Req, Resp> implements
      io.grpc.stub.ServerCalls.UnaryMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ServerStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ClientStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.BidiStreamingMethod<Req, Resp> {
    private final TemplateServiceImplBase serviceImpl;
    private final int methodId;

    MethodHandlers(TemplateServiceImplBase serviceImpl, int methodId) {
      this.serviceImpl = serviceImpl;
      this.methodId = methodId;
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public void invoke(Req request, io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_CREATE_TEMPLATE:
          serviceImpl.createTemplate((dev.llm.orchestrator.v1.CreateTemplateRequest) request,
              (io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.CreateTemplateResponse>) responseObserver);
          break;
        case METHODID_GET_TEMPLATE:
          serviceImpl.getTemplate((dev.llm.orchestrator.v1.GetTemplateRequest) request,
              (io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.GetTemplateResponse>) responseObserver);
          break;
        case METHODID_LIST_TEMPLATES:
          serviceImpl.listTemplates((dev.llm.orchestrator.v1.ListTemplatesRequest) request,
              (io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.ListTemplatesResponse>) responseObserver);
          break;
        case METHODID_RENDER_TEMPLATE:
          serviceImpl.renderTemplate((dev.llm.orchestrator.v1.RenderTemplateRequest) request,
              (io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.RenderTemplateResponse>) responseObserver);
          break;
        case METHODID_DELETE_TEMPLATE:
          serviceImpl.deleteTemplate((dev.llm.orchestrator.v1.DeleteTemplateRequest) request,
              (io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.DeleteTemplateResponse>) responseObserver);
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

  private static abstract class TemplateServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    TemplateServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return dev.llm.orchestrator.v1.TemplatesProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("TemplateService");
    }
  }

  private static final class TemplateServiceFileDescriptorSupplier
      extends TemplateServiceBaseDescriptorSupplier {
    TemplateServiceFileDescriptorSupplier() {}
  }

  private static final class TemplateServiceMethodDescriptorSupplier
      extends TemplateServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final String methodName;

    TemplateServiceMethodDescriptorSupplier(String methodName) {
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
      synchronized (TemplateServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new TemplateServiceFileDescriptorSupplier())
              .addMethod(getCreateTemplateMethod())
              .addMethod(getGetTemplateMethod())
              .addMethod(getListTemplatesMethod())
              .addMethod(getRenderTemplateMethod())
              .addMethod(getDeleteTemplateMethod())
              .build();
        }
      }
    }
    return result;
  }
}
