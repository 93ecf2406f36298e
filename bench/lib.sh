# Shared by bench/run.sh, bench/profile.sh and bench/floor.sh (sourced, not run).

# A run directory (RUN, /tmp/switchboard-NAME.*) and the pids (PIDS) stopped when the script exits.
begin_run() { # name
    RUN=$(mktemp -d "/tmp/switchboard-$1.XXXXXX")
    PIDS=()
    trap 'for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done' EXIT
    trap 'exit 130' INT TERM
}

# A free TCP port on loopback.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# The port a bench Java tool printed as PORT=<n> into its log (waits up to 2 minutes; empty if none).
logged_port() { # log
    for _ in $(seq 1 600); do grep -q '^PORT=' "$1" 2>/dev/null && break; sleep 0.2; done
    sed -n 's/^PORT=//p' "$1"
}

# Starts the fake upstream on CPU 0, its log in DIR/fake.log: sets FAKE_PORT and adds its pid to PIDS.
start_fake() { # dir classpath
    taskset -c 0 java -XX:+UseParallelGC -Xms512m -Xmx1g -Dreactor.netty.ioWorkerCount=1 -cp "$2" FakeUpstreamServer 0 \
        >"$1/fake.log" 2>&1 &
    PIDS+=($!)
    FAKE_PORT=$(logged_port "$1/fake.log")
}

# Writes DIR/nginx.conf: nginx as a plain reverse proxy to the fake upstream, the way the benchmark
# compares against it (one worker, no buffering either way, upstream keep-alive, no access log).
write_nginx_conf() { # dir fakePort nginxPort
    mkdir -p "$1/nginx" && chmod 777 "$1/nginx"
    cat >"$1/nginx.conf" <<CONF
worker_processes 1;
worker_rlimit_nofile 20000;
daemon off;
pid $1/nginx.pid;
error_log $1/nginx-error.log warn;
events { worker_connections 19000; multi_accept on; }
http {
    access_log off;
    client_body_temp_path $1/nginx/body;
    proxy_temp_path $1/nginx/proxy;
    fastcgi_temp_path $1/nginx/fastcgi;
    uwsgi_temp_path $1/nginx/uwsgi;
    scgi_temp_path $1/nginx/scgi;
    keepalive_requests 1000000;
    upstream fake {
        server 127.0.0.1:$2;
        keepalive 256;
        keepalive_requests 1000000;
    }
    server {
        listen 127.0.0.1:$3 backlog=4096;
        location / {
            proxy_pass http://fake;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_request_buffering off;
            proxy_read_timeout 600s;
        }
    }
}
CONF
}
