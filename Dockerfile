# SPDX-License-Identifier: MIT
# inkasso image: the service (bin/inkasso), the agency simulator
# (bin/agency-sim) and the API contract, on Debian bookworm's own libraries.
#   docker build -t inkasso .
#   docker run -e INKASSO_JWT_SECRET=... -p 127.0.0.1:8080:8080 -v inkasso-data:/var/lib/inkasso inkasso

# --- build: compiler and -dev packages, the two binaries ---------------------
FROM debian:bookworm-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential pkg-config \
      libmicrohttpd-dev libcurl4-openssl-dev libjson-c-dev libsqlite3-dev libpq-dev libjwt-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The two binaries the image ships (`make all` also builds the test-only
# bin/inkasso-faultvfs, whose sources tests/ stay out of the build context).
RUN make -j"$(nproc)" bin/inkasso bin/agency-sim

# --- runtime: only the shared libraries the two binaries link ---------------
FROM debian:bookworm-slim
LABEL org.opencontainers.image.title="inkasso" \
      org.opencontainers.image.description="Hands unpaid invoices to a debt-collection agency and follows each case" \
      org.opencontainers.image.licenses="MIT"
# ca-certificates: the agency is reached over https. No curl and no shell
# tools are added: the health check is `inkasso healthcheck`.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libmicrohttpd12 libcurl4 libjson-c5 libsqlite3-0 libpq5 libjwt0 libssl3 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 inkasso \
 && useradd --system --uid 10001 --gid inkasso --home-dir /var/lib/inkasso --no-create-home \
      --shell /usr/sbin/nologin inkasso \
 && install -d -o inkasso -g inkasso -m 0750 /var/lib/inkasso
COPY --from=build /src/bin/inkasso /src/bin/agency-sim /usr/local/bin/
# The binary serves the contract it embedded at build time (GET /openapi.yaml);
# this copy is for people and tools inspecting the image.
COPY --from=build /src/openapi.yaml /usr/local/share/inkasso/openapi.yaml
# The database lives in the volume, owned by the service user; it is also the
# working directory, the only writable place besides /tmp.
ENV INKASSO_DB=/var/lib/inkasso/inkasso.db \
    INKASSO_LISTEN=0.0.0.0:8080
VOLUME /var/lib/inkasso
WORKDIR /var/lib/inkasso
USER 10001:10001
EXPOSE 8080
# SIGTERM: stop accepting, finish requests in flight, stop the workers, close
# the database, exit 0 (give it stop_grace_period / --time of 30 s).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/inkasso", "healthcheck"]
ENTRYPOINT ["inkasso"]
CMD ["serve"]
