package dev.llm.orchestrator.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * The conversations the server keeps for each calling service (GenerateRequest.conversation_id), for
 * debugging and for deleting them on request. A service sees only its own conversations.
 * </pre>
 */
@javax.annotation.Generated(
    value = "by gRPC proto compiler",
    comments = "Source: orchestrator/v1/conversations.proto")
@io.grpc.stub.annotations.GrpcGenerated
public final class ConversationServiceGrpc {

  private ConversationServiceGrpc() {}

  public static final String SERVICE_NAME = "orchestrator.v1.ConversationService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.GetConversationRequest,
      dev.llm.orchestrator.v1.GetConversationResponse> getGetConversationMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetConversation",
      requestType = dev.llm.orchestrator.v1.GetConversationRequest.class,
      responseType = dev.llm.orchestrator.v1.GetConversationResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.GetConversationRequest,
      dev.llm.orchestrator.v1.GetConversationResponse> getGetConversationMethod() {
    io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.GetConversationRequest, dev.llm.orchestrator.v1.GetConversationResponse> getGetConversationMethod;
    if ((getGetConversationMethod = ConversationServiceGrpc.getGetConversationMethod) == null) {
      synchronized (ConversationServiceGrpc.class) {
        if ((getGetConversationMethod = ConversationServiceGrpc.getGetConversationMethod) == null) {
          ConversationServiceGrpc.getGetConversationMethod = getGetConversationMethod =
              io.grpc.MethodDescriptor.<dev.llm.orchestrator.v1.GetConversationRequest, dev.llm.orchestrator.v1.GetConversationResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetConversation"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.llm.orchestrator.v1.GetConversationRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.llm.orchestrator.v1.GetConversationResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ConversationServiceMethodDescriptorSupplier("GetConversation"))
              .build();
        }
      }
    }
    return getGetConversationMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.ListConversationsRequest,
      dev.llm.orchestrator.v1.ListConversationsResponse> getListConversationsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListConversations",
      requestType = dev.llm.orchestrator.v1.ListConversationsRequest.class,
      responseType = dev.llm.orchestrator.v1.ListConversationsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.ListConversationsRequest,
      dev.llm.orchestrator.v1.ListConversationsResponse> getListConversationsMethod() {
    io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.ListConversationsRequest, dev.llm.orchestrator.v1.ListConversationsResponse> getListConversationsMethod;
    if ((getListConversationsMethod = ConversationServiceGrpc.getListConversationsMethod) == null) {
      synchronized (ConversationServiceGrpc.class) {
        if ((getListConversationsMethod = ConversationServiceGrpc.getListConversationsMethod) == null) {
          ConversationServiceGrpc.getListConversationsMethod = getListConversationsMethod =
              io.grpc.MethodDescriptor.<dev.llm.orchestrator.v1.ListConversationsRequest, dev.llm.orchestrator.v1.ListConversationsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListConversations"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.llm.orchestrator.v1.ListConversationsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.llm.orchestrator.v1.ListConversationsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ConversationServiceMethodDescriptorSupplier("ListConversations"))
              .build();
        }
      }
    }
    return getListConversationsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.DeleteConversationRequest,
      dev.llm.orchestrator.v1.DeleteConversationResponse> getDeleteConversationMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "DeleteConversation",
      requestType = dev.llm.orchestrator.v1.DeleteConversationRequest.class,
      responseType = dev.llm.orchestrator.v1.DeleteConversationResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.DeleteConversationRequest,
      dev.llm.orchestrator.v1.DeleteConversationResponse> getDeleteConversationMethod() {
    io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.DeleteConversationRequest, dev.llm.orchestrator.v1.DeleteConversationResponse> getDeleteConversationMethod;
    if ((getDeleteConversationMethod = ConversationServiceGrpc.getDeleteConversationMethod) == null) {
      synchronized (ConversationServiceGrpc.class) {
        if ((getDeleteConversationMethod = ConversationServiceGrpc.getDeleteConversationMethod) == null) {
          ConversationServiceGrpc.getDeleteConversationMethod = getDeleteConversationMethod =
              io.grpc.MethodDescriptor.<dev.llm.orchestrator.v1.DeleteConversationRequest, dev.llm.orchestrator.v1.DeleteConversationResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "DeleteConversation"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.llm.orchestrator.v1.DeleteConversationRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.llm.orchestrator.v1.DeleteConversationResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ConversationServiceMethodDescriptorSupplier("DeleteConversation"))
              .build();
        }
      }
    }
    return getDeleteConversationMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static ConversationServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<ConversationServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<ConversationServiceStub>() {
        @java.lang.Override
        public ConversationServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new ConversationServiceStub(channel, callOptions);
        }
      };
    return ConversationServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static ConversationServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<ConversationServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<ConversationServiceBlockingStub>() {
        @java.lang.Override
        public ConversationServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new ConversationServiceBlockingStub(channel, callOptions);
        }
      };
    return ConversationServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static ConversationServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<ConversationServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<ConversationServiceFutureStub>() {
        @java.lang.Override
        public ConversationServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new ConversationServiceFutureStub(channel, callOptions);
        }
      };
    return ConversationServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * The conversations the server keeps for each calling service (GenerateRequest.conversation_id), for
   * debugging and for deleting them on request. A service sees only its own conversations.
   * </pre>
   */
  public static abstract class ConversationServiceImplBase implements io.grpc.BindableService {

    /**
     * <pre>
     * Returns one conversation with its turns.
     * </pre>
     */
    public void getConversation(dev.llm.orchestrator.v1.GetConversationRequest request,
        io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.GetConversationResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetConversationMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lists the caller's conversations, most recently updated first, a page at a time.
     * </pre>
     */
    public void listConversations(dev.llm.orchestrator.v1.ListConversationsRequest request,
        io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.ListConversationsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListConversationsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Deletes a conversation and all its turns.
     * </pre>
     */
    public void deleteConversation(dev.llm.orchestrator.v1.DeleteConversationRequest request,
        io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.DeleteConversationResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getDeleteConversationMethod(), responseObserver);
    }

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
          .addMethod(
            getGetConversationMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                dev.llm.orchestrator.v1.GetConversationRequest,
                dev.llm.orchestrator.v1.GetConversationResponse>(
                  this, METHODID_GET_CONVERSATION)))
          .addMethod(
            getListConversationsMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                dev.llm.orchestrator.v1.ListConversationsRequest,
                dev.llm.orchestrator.v1.ListConversationsResponse>(
                  this, METHODID_LIST_CONVERSATIONS)))
          .addMethod(
            getDeleteConversationMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                dev.llm.orchestrator.v1.DeleteConversationRequest,
                dev.llm.orchestrator.v1.DeleteConversationResponse>(
                  this, METHODID_DELETE_CONVERSATION)))
          .build();
    }
  }

  /**
   * <pre>
   * The conversations the server keeps for each calling service (GenerateRequest.conversation_id), for
   * debugging and for deleting them on request. A service sees only its own conversations.
   * </pre>
   */
  public static final class ConversationServiceStub extends io.grpc.stub.AbstractAsyncStub<ConversationServiceStub> {
    private ConversationServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected ConversationServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new ConversationServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Returns one conversation with its turns.
     * </pre>
     */
    public void getConversation(dev.llm.orchestrator.v1.GetConversationRequest request,
        io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.GetConversationResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetConversationMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lists the caller's conversations, most recently updated first, a page at a time.
     * </pre>
     */
    public void listConversations(dev.llm.orchestrator.v1.ListConversationsRequest request,
        io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.ListConversationsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListConversationsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Deletes a conversation and all its turns.
     * </pre>
     */
    public void deleteConversation(dev.llm.orchestrator.v1.DeleteConversationRequest request,
        io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.DeleteConversationResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getDeleteConversationMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * <pre>
   * The conversations the server keeps for each calling service (GenerateRequest.conversation_id), for
   * debugging and for deleting them on request. A service sees only its own conversations.
   * </pre>
   */
  public static final class ConversationServiceBlockingStub extends io.grpc.stub.AbstractBlockingStub<ConversationServiceBlockingStub> {
    private ConversationServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected ConversationServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new ConversationServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Returns one conversation with its turns.
     * </pre>
     */
    public dev.llm.orchestrator.v1.GetConversationResponse getConversation(dev.llm.orchestrator.v1.GetConversationRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetConversationMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists the caller's conversations, most recently updated first, a page at a time.
     * </pre>
     */
    public dev.llm.orchestrator.v1.ListConversationsResponse listConversations(dev.llm.orchestrator.v1.ListConversationsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListConversationsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes a conversation and all its turns.
     * </pre>
     */
    public dev.llm.orchestrator.v1.DeleteConversationResponse deleteConversation(dev.llm.orchestrator.v1.DeleteConversationRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getDeleteConversationMethod(), getCallOptions(), request);
    }
  }

  /**
   * <pre>
   * The conversations the server keeps for each calling service (GenerateRequest.conversation_id), for
   * debugging and for deleting them on request. A service sees only its own conversations.
   * </pre>
   */
  public static final class ConversationServiceFutureStub extends io.grpc.stub.AbstractFutureStub<ConversationServiceFutureStub> {
    private ConversationServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected ConversationServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new ConversationServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Returns one conversation with its turns.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.llm.orchestrator.v1.GetConversationResponse> getConversation(
        dev.llm.orchestrator.v1.GetConversationRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetConversationMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lists the caller's conversations, most recently updated first, a page at a time.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.llm.orchestrator.v1.ListConversationsResponse> listConversations(
        dev.llm.orchestrator.v1.ListConversationsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListConversationsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Deletes a conversation and all its turns.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.llm.orchestrator.v1.DeleteConversationResponse> deleteConversation(
        dev.llm.orchestrator.v1.DeleteConversationRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getDeleteConversationMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_GET_CONVERSATION = 0;
  private static final int METHODID_LIST_CONVERSATIONS = 1;
  private static final int METHODID_DELETE_CONVERSATION = 2;

  private static final class MethodHandlers<Req, Resp> implements
      io.grpc.stub.ServerCalls.UnaryMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ServerStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ClientStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.BidiStreamingMethod<Req, Resp> {
    private final ConversationServiceImplBase serviceImpl;
    private final int methodId;

    MethodHandlers(ConversationServiceImplBase serviceImpl, int methodId) {
      this.serviceImpl = serviceImpl;
      this.methodId = methodId;
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public void invoke(Req request, io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_GET_CONVERSATION:
          serviceImpl.getConversation((dev.llm.orchestrator.v1.GetConversationRequest) request,
              (io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.GetConversationResponse>) responseObserver);
          break;
        case METHODID_LIST_CONVERSATIONS:
          serviceImpl.listConversations((dev.llm.orchestrator.v1.ListConversationsRequest) request,
              (io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.ListConversationsResponse>) responseObserver);
          break;
        case METHODID_DELETE_CONVERSATION:
          serviceImpl.deleteConversation((dev.llm.orchestrator.v1.DeleteConversationRequest) request,
              (io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.DeleteConversationResponse>) responseObserver);
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

  private static abstract class ConversationServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    ConversationServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return dev.llm.orchestrator.v1.ConversationsProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("ConversationService");
    }
  }

  private static final class ConversationServiceFileDescriptorSupplier
      extends ConversationServiceBaseDescriptorSupplier {
    ConversationServiceFileDescriptorSupplier() {}
  }

  private static final class ConversationServiceMethodDescriptorSupplier
      extends ConversationServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final String methodName;

    ConversationServiceMethodDescriptorSupplier(String methodName) {
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
      synchronized (ConversationServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new ConversationServiceFileDescriptorSupplier())
              .addMethod(getGetConversationMethod())
              .addMethod(getListConversationsMethod())
              .addMethod(getDeleteConversationMethod())
              .build();
        }
      }
    }
    return result;
  }
}
