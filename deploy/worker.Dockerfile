# The worker image: `python3 -m snakepit_worker serve` on Debian bookworm,
# from Debian packages only (docs/remote.md). Build from the repository root:
#   docker build -f deploy/worker.Dockerfile -t snakepit-worker .
# Add your adapter's code and its Debian packages in a stage of your own
# FROM this image (PYTHONPATH already holds /opt/snakepit/adapters).

# Stage 1: the worker package with its generated gRPC stubs and the native
# transport (gRPC C++ inside Python), built by the project's CMake.
FROM debian:bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
      cmake ninja-build g++ pkg-config libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev \
      protobuf-compiler libabsl-dev libspdlog-dev nlohmann-json3-dev python3-dev python3-grpcio \
      python3-protobuf \
    && rm -rf /var/lib/apt/lists/*
COPY . /src
RUN cmake -S /src -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSNAKEPIT_BUILD_TESTS=OFF -DSNAKEPIT_BUILD_EXAMPLES=OFF \
    && cmake --build /build --target snakepit_python snakepit_native_cpython_311_x86_64_linux_gnu

# Stage 2: the runtime: Python, grpcio (the health port and the grpcio
# transport) and the gRPC C++ runtime the native transport links.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
      python3 python3-grpcio python3-protobuf libgrpc++1.51 libprotobuf32 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/python /opt/snakepit/python
ENV PYTHONPATH=/opt/snakepit/python:/opt/snakepit/adapters \
    PYTHONDONTWRITEBYTECODE=1
# The user of deploy/kubernetes/worker-deployment.yaml's securityContext.
USER 65532:65532
EXPOSE 50051 8081
ENTRYPOINT ["python3", "-m", "snakepit_worker", "serve"]
CMD ["--listen=0.0.0.0:50051", "--health-listen=0.0.0.0:8081"]
