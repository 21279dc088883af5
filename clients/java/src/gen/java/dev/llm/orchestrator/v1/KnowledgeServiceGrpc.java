package dev.llm.orchestrator.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * A knowledge base of documents, chunked and searchable by full text, that requests draw context from
 * (GenerateRequest.retrieval). Every service may search every collection; only the service that created
 * a collection (or an admin) may change it.
 * </pre>
 */
@javax.annotation.Generated(
    value = "by gRPC proto compiler",
    comments = "Source: orchestrator/v1/knowledge.proto")
@io.grpc.stub.annotations.GrpcGenerated
public final class KnowledgeServiceGrpc {

  private KnowledgeServiceGrpc() {}

  public static final String SERVICE_NAME = "orchestrator.v1.KnowledgeService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.UpsertDocumentsRequest,
      dev.llm.orchestrator.v1.UpsertDocumentsResponse> getUpsertDocumentsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "UpsertDocuments",
      requestType = dev.llm.orchestrator.v1.UpsertDocumentsRequest.class,
      responseType = dev.llm.orchestrator.v1.UpsertDocumentsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.UpsertDocumentsRequest,
      dev.llm.orchestrator.v1.UpsertDocumentsResponse> getUpsertDocumentsMethod() {
    io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.UpsertDocumentsRequest, dev.llm.orchestrator.v1.UpsertDocumentsResponse> getUpsertDocumentsMethod;
    if ((getUpsertDocumentsMethod = KnowledgeServiceGrpc.getUpsertDocumentsMethod) == null) {
      synchronized (KnowledgeServiceGrpc.class) {
        if ((getUpsertDocumentsMethod = KnowledgeServiceGrpc.getUpsertDocumentsMethod) == null) {
          KnowledgeServiceGrpc.getUpsertDocumentsMethod = getUpsertDocumentsMethod =
              io.grpc.MethodDescriptor.<dev.llm.orchestrator.v1.UpsertDocumentsRequest, dev.llm.orchestrator.v1.UpsertDocumentsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "UpsertDocuments"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.llm.orchestrator.v1.UpsertDocumentsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.llm.orchestrator.v1.UpsertDocumentsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new KnowledgeServiceMethodDescriptorSupplier("UpsertDocuments"))
              .build();
        }
      }
    }
    return getUpsertDocumentsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.DeleteDocumentsRequest,
      dev.llm.orchestrator.v1.DeleteDocumentsResponse> getDeleteDocumentsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "DeleteDocuments",
      requestType = dev.llm.orchestrator.v1.DeleteDocumentsRequest.class,
      responseType = dev.llm.orchestrator.v1.DeleteDocumentsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.DeleteDocumentsRequest,
      dev.llm.orchestrator.v1.DeleteDocumentsResponse> getDeleteDocumentsMethod() {
    io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.DeleteDocumentsRequest, dev.llm.orchestrator.v1.DeleteDocumentsResponse> getDeleteDocumentsMethod;
    if ((getDeleteDocumentsMethod = KnowledgeServiceGrpc.getDeleteDocumentsMethod) == null) {
      synchronized (KnowledgeServiceGrpc.class) {
        if ((getDeleteDocumentsMethod = KnowledgeServiceGrpc.getDeleteDocumentsMethod) == null) {
          KnowledgeServiceGrpc.getDeleteDocumentsMethod = getDeleteDocumentsMethod =
              io.grpc.MethodDescriptor.<dev.llm.orchestrator.v1.DeleteDocumentsRequest, dev.llm.orchestrator.v1.DeleteDocumentsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "DeleteDocuments"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.llm.orchestrator.v1.DeleteDocumentsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.llm.orchestrator.v1.DeleteDocumentsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new KnowledgeServiceMethodDescriptorSupplier("DeleteDocuments"))
              .build();
        }
      }
    }
    return getDeleteDocumentsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.SearchRequest,
      dev.llm.orchestrator.v1.SearchResponse> getSearchMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Search",
      requestType = dev.llm.orchestrator.v1.SearchRequest.class,
      responseType = dev.llm.orchestrator.v1.SearchResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.SearchRequest,
      dev.llm.orchestrator.v1.SearchResponse> getSearchMethod() {
    io.grpc.MethodDescriptor<dev.llm.orchestrator.v1.SearchRequest, dev.llm.orchestrator.v1.SearchResponse> getSearchMethod;
    if ((getSearchMethod = KnowledgeServiceGrpc.getSearchMethod) == null) {
      synchronized (KnowledgeServiceGrpc.class) {
        if ((getSearchMethod = KnowledgeServiceGrpc.getSearchMethod) == null) {
          KnowledgeServiceGrpc.getSearchMethod = getSearchMethod =
              io.grpc.MethodDescriptor.<dev.llm.orchestrator.v1.SearchRequest, dev.llm.orchestrator.v1.SearchResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Search"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.llm.orchestrator.v1.SearchRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.llm.orchestrator.v1.SearchResponse.getDefaultInstance()))
              .setSchemaDescriptor(new KnowledgeServiceMethodDescriptorSupplier("Search"))
              .build();
        }
      }
    }
    return getSearchMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static KnowledgeServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<KnowledgeServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<KnowledgeServiceStub>() {
        @java.lang.Override
        public KnowledgeServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new KnowledgeServiceStub(channel, callOptions);
        }
      };
    return KnowledgeServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static KnowledgeServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<KnowledgeServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<KnowledgeServiceBlockingStub>() {
        @java.lang.Override
        public KnowledgeServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new KnowledgeServiceBlockingStub(channel, callOptions);
        }
      };
    return KnowledgeServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static KnowledgeServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<KnowledgeServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<KnowledgeServiceFutureStub>() {
        @java.lang.Override
        public KnowledgeServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new KnowledgeServiceFutureStub(channel, callOptions);
        }
      };
    return KnowledgeServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * A knowledge base of documents, chunked and searchable by full text, that requests draw context from
   * (GenerateRequest.retrieval). Every service may search every collection; only the service that created
   * a collection (or an admin) may change it.
   * </pre>
   */
  public static abstract class KnowledgeServiceImplBase implements io.grpc.BindableService {

    /**
     * <pre>
     * Adds or replaces documents (by id) in a collection; long documents are split into chunks.
     * </pre>
     */
    public void upsertDocuments(dev.llm.orchestrator.v1.UpsertDocumentsRequest request,
        io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.UpsertDocumentsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getUpsertDocumentsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Removes documents from a collection.
     * </pre>
     */
    public void deleteDocuments(dev.llm.orchestrator.v1.DeleteDocumentsRequest request,
        io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.DeleteDocumentsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getDeleteDocumentsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Finds the chunks that best match a query, best first.
     * </pre>
     */
    public void search(dev.llm.orchestrator.v1.SearchRequest request,
        io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.SearchResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getSearchMethod(), responseObserver);
    }

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
          .addMethod(
            getUpsertDocumentsMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                dev.llm.orchestrator.v1.UpsertDocumentsRequest,
                dev.llm.orchestrator.v1.UpsertDocumentsResponse>(
                  this, METHODID_UPSERT_DOCUMENTS)))
          .addMethod(
            getDeleteDocumentsMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                dev.llm.orchestrator.v1.DeleteDocumentsRequest,
                dev.llm.orchestrator.v1.DeleteDocumentsResponse>(
                  this, METHODID_DELETE_DOCUMENTS)))
          .addMethod(
            getSearchMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                dev.llm.orchestrator.v1.SearchRequest,
                dev.llm.orchestrator.v1.SearchResponse>(
                  this, METHODID_SEARCH)))
          .build();
    }
  }

  /**
   * <pre>
   * A knowledge base of documents, chunked and searchable by full text, that requests draw context from
   * (GenerateRequest.retrieval). Every service may search every collection; only the service that created
   * a collection (or an admin) may change it.
   * </pre>
   */
  public static final class KnowledgeServiceStub extends io.grpc.stub.AbstractAsyncStub<KnowledgeServiceStub> {
    private KnowledgeServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected KnowledgeServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new KnowledgeServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Adds or replaces documents (by id) in a collection; long documents are split into chunks.
     * </pre>
     */
    public void upsertDocuments(dev.llm.orchestrator.v1.UpsertDocumentsRequest request,
        io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.UpsertDocumentsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getUpsertDocumentsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Removes documents from a collection.
     * </pre>
     */
    public void deleteDocuments(dev.llm.orchestrator.v1.DeleteDocumentsRequest request,
        io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.DeleteDocumentsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getDeleteDocumentsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Finds the chunks that best match a query, best first.
     * </pre>
     */
    public void search(dev.llm.orchestrator.v1.SearchRequest request,
        io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.SearchResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getSearchMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * <pre>
   * A knowledge base of documents, chunked and searchable by full text, that requests draw context from
   * (GenerateRequest.retrieval). Every service may search every collection; only the service that created
   * a collection (or an admin) may change it.
   * </pre>
   */
  public static final class KnowledgeServiceBlockingStub extends io.grpc.stub.AbstractBlockingStub<KnowledgeServiceBlockingStub> {
    private KnowledgeServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected KnowledgeServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new KnowledgeServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Adds or replaces documents (by id) in a collection; long documents are split into chunks.
     * </pre>
     */
    public dev.llm.orchestrator.v1.UpsertDocumentsResponse upsertDocuments(dev.llm.orchestrator.v1.UpsertDocumentsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getUpsertDocumentsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Removes documents from a collection.
     * </pre>
     */
    public dev.llm.orchestrator.v1.DeleteDocumentsResponse deleteDocuments(dev.llm.orchestrator.v1.DeleteDocumentsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getDeleteDocumentsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Finds the chunks that best match a query, best first.
     * </pre>
     */
    public dev.llm.orchestrator.v1.SearchResponse search(dev.llm.orchestrator.v1.SearchRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getSearchMethod(), getCallOptions(), request);
    }
  }

  /**
   * <pre>
   * A knowledge base of documents, chunked and searchable by full text, that requests draw context from
   * (GenerateRequest.retrieval). Every service may search every collection; only the service that created
   * a collection (or an admin) may change it.
   * </pre>
   */
  public static final class KnowledgeServiceFutureStub extends io.grpc.stub.AbstractFutureStub<KnowledgeServiceFutureStub> {
    private KnowledgeServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected KnowledgeServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new KnowledgeServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Adds or replaces documents (by id) in a collection; long documents are split into chunks.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.llm.orchestrator.v1.UpsertDocumentsResponse> upsertDocuments(
        dev.llm.orchestrator.v1.UpsertDocumentsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getUpsertDocumentsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Removes documents from a collection.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.llm.orchestrator.v1.DeleteDocumentsResponse> deleteDocuments(
        dev.llm.orchestrator.v1.DeleteDocumentsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getDeleteDocumentsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Finds the chunks that best match a query, best first.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.llm.orchestrator.v1.SearchResponse> search(
        dev.llm.orchestrator.v1.SearchRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getSearchMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_UPSERT_DOCUMENTS = 0;
  private static final int METHODID_DELETE_DOCUMENTS = 1;
  private static final int METHODID_SEARCH = 2;

  private static final class MethodHandlers<Req, Resp> implements
      io.grpc.stub.ServerCalls.UnaryMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ServerStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ClientStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.BidiStreamingMethod<Req, Resp> {
    private final KnowledgeServiceImplBase serviceImpl;
    private final int methodId;

    MethodHandlers(KnowledgeServiceImplBase serviceImpl, int methodId) {
      this.serviceImpl = serviceImpl;
      this.methodId = methodId;
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public void invoke(Req request, io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_UPSERT_DOCUMENTS:
          serviceImpl.upsertDocuments((dev.llm.orchestrator.v1.UpsertDocumentsRequest) request,
              (io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.UpsertDocumentsResponse>) responseObserver);
          break;
        case METHODID_DELETE_DOCUMENTS:
          serviceImpl.deleteDocuments((dev.llm.orchestrator.v1.DeleteDocumentsRequest) request,
              (io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.DeleteDocumentsResponse>) responseObserver);
          break;
        case METHODID_SEARCH:
          serviceImpl.search((dev.llm.orchestrator.v1.SearchRequest) request,
              (io.grpc.stub.StreamObserver<dev.llm.orchestrator.v1.SearchResponse>) responseObserver);
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

  private static abstract class KnowledgeServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    KnowledgeServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return dev.llm.orchestrator.v1.KnowledgeProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("KnowledgeService");
    }
  }

  private static final class KnowledgeServiceFileDescriptorSupplier
      extends KnowledgeServiceBaseDescriptorSupplier {
    KnowledgeServiceFileDescriptorSupplier() {}
  }

  private static final class KnowledgeServiceMethodDescriptorSupplier
      extends KnowledgeServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final String methodName;

    KnowledgeServiceMethodDescriptorSupplier(String methodName) {
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
      synchronized (KnowledgeServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new KnowledgeServiceFileDescriptorSupplier())
              .addMethod(getUpsertDocumentsMethod())
              .addMethod(getDeleteDocumentsMethod())
              .addMethod(getSearchMethod())
              .build();
        }
      }
    }
    return result;
  }
}
