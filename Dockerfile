# The image `kubectl vllm webhook manifests --image` runs (README: "Admission webhook").
#
#   docker build -t REGISTRY/kubectl-vllm:0.1.0 . && docker push REGISTRY/kubectl-vllm:0.1.0
#
# The build compiles the policies for wasm32-wasip2 and embeds their machine code for the build
# machine's CPU; on nodes with other CPU features each policy is compiled once at start and cached
# in the pod's emptyDir (KUBECTL_VLLM_CACHE_DIR=/cache in the manifests).
FROM docker.io/library/rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN rustup target add wasm32-wasip2 \
 && cargo build --release --locked -p kubectl-vllm \
 && cp target/release/kubectl-vllm /kubectl-vllm

# glibc and libgcc only; runs as 65532 (distroless "nonroot"), as the manifests require.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /kubectl-vllm /usr/local/bin/kubectl-vllm
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/kubectl-vllm"]
