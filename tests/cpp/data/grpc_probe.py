"""A gRPC client in a process of its own, for the access-control tests.

Usage: grpc_probe.py TARGET [--tls-ca PEM_FILE] [--server-name NAME]

Sends $PROBE_TOKEN as the snakepit-token metadata (none when unset), over
TLS verified against --tls-ca when given, else plaintext. Calls Health,
Stats and Execute("ping") once each and prints one JSON line mapping each
to its gRPC status code name, e.g. {"Health": "OK", "Stats": "OK",
"Execute": "UNAUTHENTICATED", ...}, plus "served" (Stats' requests_served)
and "outcome" (Execute's result or error) for the calls that succeeded.
Needs grpc and snakepit_worker (with its generated stubs) on sys.path.
"""

import argparse
import json
import os

import grpc

from snakepit_worker._proto import worker_pb2 as pb
from snakepit_worker._proto import worker_pb2_grpc


def channel(args: argparse.Namespace) -> grpc.Channel:
    if args.tls_ca is None:
        return grpc.insecure_channel(args.target)
    with open(args.tls_ca, "rb") as f:
        credentials = grpc.ssl_channel_credentials(root_certificates=f.read())
    options = [("grpc.ssl_target_name_override", args.server_name)] if args.server_name else []
    return grpc.secure_channel(args.target, credentials, options)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("target")
    parser.add_argument("--tls-ca")
    parser.add_argument("--server-name")
    args = parser.parse_args()
    token = os.environ.get("PROBE_TOKEN")
    metadata = [("snakepit-token", token)] if token is not None else []
    stub = worker_pb2_grpc.WorkerStub(channel(args))
    out = {}
    calls = [("Health", stub.Health, pb.HealthRequest()),
             ("Stats", stub.Stats, pb.StatsRequest()),
             ("Execute", stub.Execute, pb.ExecuteRequest(command="ping", args_json="{}"))]
    for name, method, request in calls:
        try:
            response = method(request, metadata=metadata, timeout=10)
        except grpc.RpcError as e:
            out[name] = e.code().name
            out[name + "_details"] = e.details()
            continue
        out[name] = "OK"
        if name == "Stats":
            out["served"] = response.requests_served
        if name == "Execute":
            out["outcome"] = response.WhichOneof("outcome")
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
