"""Server reflection that carries the contract's comments, so `grpcurl describe` shows the docs.

protoc strips comments from the descriptors embedded in generated Python code, and grpcio-reflection
serves those. We ship the contract's descriptor set with source info (orchestrator_v1.binpb, made
by `make proto`) and answer with it for our own files; every other file is served as usual.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources

import grpc
from google.protobuf import descriptor_pb2
from grpc_reflection.v1alpha import _async as reflection_aio
from grpc_reflection.v1alpha import reflection, reflection_pb2, reflection_pb2_grpc

DESCRIPTOR_SET = ("orchestrator_client.v1", "orchestrator_v1.binpb")


def documented_files() -> dict[str, bytes]:
    package, name = DESCRIPTOR_SET
    files = descriptor_pb2.FileDescriptorSet.FromString((resources.files(package) / name).read_bytes())
    return {f.name: f.SerializeToString() for f in files.file}


class DocumentedReflectionServicer(reflection_aio.ReflectionServicer):
    def __init__(self, service_names: Iterable[str], documented: dict[str, bytes]) -> None:
        super().__init__(service_names)
        self._documented = documented

    def _with_docs(self, response: reflection_pb2.ServerReflectionResponse) -> reflection_pb2.ServerReflectionResponse:
        if response.HasField("file_descriptor_response"):
            files = response.file_descriptor_response.file_descriptor_proto
            for i, raw in enumerate(files):
                name = descriptor_pb2.FileDescriptorProto.FromString(raw).name
                if name in self._documented:
                    files[i] = self._documented[name]
        return response

    def _file_by_filename(self, request, filename):  # type: ignore[no-untyped-def]
        return self._with_docs(super()._file_by_filename(request, filename))

    def _file_containing_symbol(self, request, fully_qualified_name):  # type: ignore[no-untyped-def]
        return self._with_docs(super()._file_containing_symbol(request, fully_qualified_name))


def enable_reflection(server: grpc.aio.Server, service_names: Iterable[str]) -> None:
    names = (*service_names, reflection.SERVICE_NAME)
    servicer = DocumentedReflectionServicer(names, documented_files())
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(servicer, server)
