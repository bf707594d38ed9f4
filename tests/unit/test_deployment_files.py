"""Static checks of the container files: Dockerfile, .dockerignore, compose.yaml
and the docker-run helpers. They only read files (and run `bash -n`), so they
need no Docker engine and catch broken deployment files before anyone builds.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shlex
import shutil
import subprocess
from fnmatch import fnmatch
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE_FILE = ROOT / "compose.yaml"
RUN_SH = ROOT / "docker-run.sh"
RUN_PS1 = ROOT / "docker-run.ps1"
NGINX_CONF = ROOT / "deploy" / "nginx.conf"

SUBCOMMANDS = ("dev", "prod", "stop", "clean")
SECRETS = ("PAYGATE_JWT_SECRET", "PAYGATE_STORAGE_SECRET")


# --- Dockerfile parsing -----------------------------------------------------


def dockerfile_instructions() -> list[tuple[str | None, str, str]]:
    """(stage name, INSTRUCTION, arguments) for each instruction, in order.

    Comment lines are dropped and backslash continuations joined, as Docker
    does. Instructions before the first FROM belong to stage None.
    """
    logical: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        pending += line
        if pending.strip():
            logical.append(pending.strip())
        pending = ""

    instructions: list[tuple[str | None, str, str]] = []
    stage: str | None = None
    for line in logical:
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            match = re.search(r"\s+AS\s+(\S+)\s*$", args, re.IGNORECASE)
            stage = match.group(1) if match else None
        instructions.append((stage, keyword, args.strip()))
    return instructions


def stage_instructions(stage: str, keyword: str) -> list[str]:
    return [args for name, kw, args in dockerfile_instructions() if name == stage and kw == keyword]


def copy_sources(args: str) -> list[str]:
    """Source paths of a COPY (shell or JSON form), or [] for COPY --from=..."""
    tokens = json.loads(args) if args.startswith("[") else shlex.split(args)
    flags = [t for t in tokens if t.startswith("--")]
    if any(flag.startswith("--from=") for flag in flags):
        return []
    paths = [t for t in tokens if not t.startswith("--")]
    return paths[:-1]  # the last one is the destination


def all_copy_sources() -> list[str]:
    sources = []
    for _, keyword, args in dockerfile_instructions():
        if keyword in ("COPY", "ADD"):
            sources.extend(copy_sources(args))
    return sources


# --- compose parsing ----------------------------------------------------------


def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def services() -> dict[str, dict]:
    return compose()["services"]


def environment(service: dict) -> dict[str, str | None]:
    """A service's environment as a dict, from either the list or the map form."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.partition("=") for item in env)
        return {key: (value if sep else None) for key, sep, value in pairs}
    return {key: (None if value is None else str(value)) for key, value in env.items()}


def build_target(service: dict) -> str | None:
    build = service.get("build")
    return build.get("target") if isinstance(build, dict) else None


def prod_apps() -> dict[str, dict]:
    return {
        name: svc
        for name, svc in services().items()
        if "prod" in svc.get("profiles", []) and build_target(svc) == "prod"
    }


def host_ports(service: dict) -> list[str]:
    ports = []
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            ports.append(str(entry["published"]))
        else:
            parts = str(entry).split(":")
            if len(parts) >= 2:
                ports.append(parts[-2])
    return ports


# --- Dockerfile ---------------------------------------------------------------


def test_dockerfile_defines_dev_and_prod_targets():
    stages = {name for name, keyword, _ in dockerfile_instructions() if keyword == "FROM"}
    assert {"dev", "prod"} <= stages


def test_every_file_the_dockerfile_copies_from_the_build_context_exists():
    sources = all_copy_sources()
    assert sources, "expected the Dockerfile to COPY the project sources"
    missing = [src for src in sources if not (ROOT / src).exists()]
    assert not missing, f"COPY sources missing from the repo: {missing}"


def test_no_copied_path_is_excluded_by_the_dockerignore():
    patterns = [
        line.strip().lstrip("/").rstrip("/")
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.strip().startswith(("#", "!"))
    ]
    excluded = [
        src for src in all_copy_sources() for pattern in patterns if fnmatch(src.rstrip("/"), pattern)
    ]
    assert not excluded, f"COPY sources excluded from the build context: {excluded}"


def test_dockerignore_keeps_local_state_and_secrets_out_of_the_build_context():
    entries = {line.strip() for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()}
    assert {".git", ".venv", "data", ".env"} <= entries


def test_prod_image_runs_as_a_non_root_user():
    users = stage_instructions("prod", "USER")
    assert users, "the prod stage sets no USER, so it runs as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")


def test_prod_image_healthcheck_probes_the_health_endpoint():
    healthchecks = stage_instructions("prod", "HEALTHCHECK")
    assert healthchecks, "the prod stage has no HEALTHCHECK"
    assert "/health" in healthchecks[-1]


def test_prod_image_exposes_the_port_the_app_listens_on_by_default():
    from app.config import Settings

    default_port = Settings.model_fields["port"].default
    assert stage_instructions("prod", "EXPOSE") == [str(default_port)]


def test_prod_image_starts_the_app_with_main_py():
    assert stage_instructions("prod", "CMD")[-1] == '["python", "main.py"]'


def test_prod_image_is_not_built_on_top_of_the_dev_tooling():
    (base,) = stage_instructions("prod", "FROM")
    assert base.split()[0] not in ("dev", "builder")
    assert not any("[dev]" in args for args in stage_instructions("prod", "RUN"))


# --- compose.yaml ---------------------------------------------------------------


def test_compose_defines_dev_and_prod_profiles():
    profiles = {profile for svc in services().values() for profile in svc.get("profiles", [])}
    assert {"dev", "prod"} <= profiles


def test_dev_service_builds_the_dev_target_and_mounts_the_source():
    dev = [svc for svc in services().values() if "dev" in svc.get("profiles", [])]
    assert len(dev) == 1
    (service,) = dev
    assert build_target(service) == "dev"
    assert any(str(volume).startswith((".:/app", "./:/app")) for volume in service.get("volumes", []))
    assert "3001" in host_ports(service)


def test_prod_has_a_postgres_service_with_a_named_volume_and_a_healthcheck():
    postgres = services()["postgres"]
    assert "prod" in postgres["profiles"]
    assert str(postgres["image"]).startswith("postgres:")
    named = [str(v).split(":")[0] for v in postgres.get("volumes", [])]
    assert any(name in (compose().get("volumes") or {}) for name in named)
    assert "pg_isready" in " ".join(map(str, postgres["healthcheck"]["test"]))


def test_prod_runs_at_least_two_app_replicas_of_the_prod_image():
    replicas = sum(int((svc.get("deploy") or {}).get("replicas", 1)) for svc in prod_apps().values())
    assert replicas >= 2


def test_prod_app_replicas_publish_distinct_host_ports():
    ports = [port for svc in prod_apps().values() for port in host_ports(svc)]
    assert len(ports) == len(set(ports)) >= 2


def test_prod_apps_wait_for_a_healthy_postgres():
    for name, svc in prod_apps().items():
        assert svc["depends_on"]["postgres"]["condition"] == "service_healthy", name


def test_prod_apps_run_in_production_mode_on_postgres_without_demo_data():
    for name, svc in prod_apps().items():
        env = environment(svc)
        assert env["PAYGATE_ENV"] == "production", name
        assert env["PAYGATE_DEMO_DATA"] == "0", name
        url = env.get("PAYGATE_DATABASE_URL") or env.get("DATABASE_URL") or ""
        assert url.startswith("postgresql+psycopg://") and "@postgres:5432/" in url, name
        assert svc["restart"] == "unless-stopped", name


def test_prod_secrets_come_from_the_environment_and_are_not_written_in_the_file():
    for name, svc in prod_apps().items():
        env = environment(svc)
        for secret in SECRETS:
            assert secret in env, f"{name} does not pass {secret}"
            value = env[secret]
            assert value is None or value.startswith("${"), f"{name} hard-codes {secret}"


def strings_in(node) -> list[str]:
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in (*strings_in(key), *strings_in(value))]
    if isinstance(node, list):
        return [s for item in node for s in strings_in(item)]
    return [node] if isinstance(node, str) else []


def test_compose_needs_no_required_variables_so_dev_runs_without_prod_secrets():
    # Compose interpolates every service, whatever the active profile: a
    # `${VAR:?...}` anywhere would make `--profile dev` fail without VAR.
    required = [s for s in strings_in(compose()) if re.search(r"\$\{[^}]*\?", s)]
    assert not required


# --- compose prod: Redis and the reverse proxy ------------------------------------


def nginx_conf() -> str:
    """deploy/nginx.conf without its comments."""
    return "\n".join(line.split("#", 1)[0] for line in NGINX_CONF.read_text(encoding="utf-8").splitlines())


def nginx_block(text: str, head: str) -> str:
    """The body of the first `head { ... }` block (nested blocks included)."""
    start = re.search(re.escape(head) + r"\s*\{", text)
    assert start, f"no {head!r} block in deploy/nginx.conf"
    depth, i = 1, start.end()
    while depth:
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    return text[start.end():i - 1]


def nginx_servers(upstream: str) -> set[str]:
    return set(re.findall(r"^\s*server\s+([\w.-]+:\d+)", nginx_block(nginx_conf(), f"upstream {upstream}"),
                          re.MULTILINE))


def proxy_service() -> tuple[str, dict]:
    proxies = [(name, svc) for name, svc in services().items()
               if "prod" in svc.get("profiles", []) and str(svc.get("image", "")).startswith(("nginx:", "caddy:"))]
    assert len(proxies) == 1, "the prod profile has no reverse proxy (or more than one)"
    return proxies[0]


def test_prod_has_a_redis_service_on_a_volume_with_a_healthcheck_not_published_on_the_host():
    redis = services()["redis"]
    assert "prod" in redis["profiles"]
    assert str(redis["image"]).startswith("redis:")
    assert any(str(v).split(":")[0] in (compose().get("volumes") or {}) for v in redis.get("volumes", []))
    assert "ping" in " ".join(map(str, redis["healthcheck"]["test"]))
    assert not redis.get("ports")


def test_prod_apps_keep_browser_sessions_in_that_redis_and_wait_for_it():
    for name, svc in prod_apps().items():
        assert environment(svc)["PAYGATE_REDIS_URL"].startswith("redis://redis:6379/"), name
        assert svc["depends_on"]["redis"]["condition"] == "service_healthy", name


def test_prod_proxy_is_the_one_entry_on_host_port_3001_with_the_config_from_the_repo():
    _, proxy = proxy_service()
    assert host_ports(proxy) == ["3001"]
    mounts = [str(v).split(":") for v in proxy.get("volumes", [])]
    assert ["./deploy/nginx.conf", "/etc/nginx/nginx.conf", "ro"] in mounts
    assert NGINX_CONF.exists()


def test_prod_replicas_are_published_on_the_hosts_loopback_only_so_the_proxy_is_the_way_in():
    for name, svc in prod_apps().items():
        for entry in svc.get("ports", []):
            assert str(entry).startswith("127.0.0.1:"), f"{name} publishes {entry} on every interface"


def test_proxy_balances_every_replica_without_sticky_sessions():
    pool = nginx_servers("paygate")
    conf = nginx_conf()

    assert pool == {f"{name}:3001" for name in prod_apps()}
    assert not re.search(r"^\s*(ip_hash|hash|sticky)\b", conf, re.MULTILINE)
    assert re.search(r"location\s+/\s*\{[^}]*proxy_pass\s+http://paygate;", conf)


def test_the_proxy_refuses_metrics_which_prometheus_reads_from_each_replica_with_the_token():
    conf = nginx_conf()

    assert re.search(r"location\s+=\s+/metrics\s*\{[^}]*return\s+404;", conf)
    for name, svc in prod_apps().items():
        assert "PAYGATE_METRICS_TOKEN" in environment(svc), f"{name} cannot be given the metrics token"


def test_proxy_passes_websockets_through():
    conf = nginx_conf()

    upgrade_map = nginx_block(conf, "map $http_upgrade $connection_upgrade")
    assert re.search(r"default\s+upgrade;", upgrade_map) and re.search(r"''\s+close;", upgrade_map)
    assert re.search(r"proxy_http_version\s+1\.1;", conf)
    assert re.search(r"proxy_set_header\s+Upgrade\s+\$http_upgrade;", conf)
    assert re.search(r"proxy_set_header\s+Connection\s+\$connection_upgrade;", conf)
    assert re.search(r"proxy_read_timeout\s+(\d+h|\d{3,}s?);", conf), "idle WebSockets would be cut after 60 s"


def test_a_pages_live_connection_is_routed_back_to_the_replica_named_in_it():
    conf = nginx_conf()
    routes = dict(re.findall(r"^\s*([\w.-]+)\s+([\w.-]+);", nginx_block(conf, "map $arg_replica $page_replica"),
                             re.MULTILINE))

    for name, svc in prod_apps().items():
        replica = environment(svc)["PAYGATE_REPLICA_NAME"]
        assert replica, f"{name} does not name itself"
        assert nginx_servers(routes[replica]) == {f"{name}:3001"}, name
    assert routes["default"] == "paygate"
    assert re.search(r"location\s+/_nicegui_ws/\s*\{[^}]*proxy_pass\s+http://\$page_replica;", conf)


def test_prod_apps_believe_x_forwarded_for_from_the_proxys_fixed_address_only():
    _, proxy = proxy_service()
    address = proxy["networks"]["prod"]["ipv4_address"]
    subnet = compose()["networks"]["prod"]["ipam"]["config"][0]["subnet"]

    assert ipaddress.ip_address(address) in ipaddress.ip_network(subnet)
    for name, svc in prod_apps().items():
        assert environment(svc)["PAYGATE_TRUSTED_PROXIES"] == address, name


# --- docker-run helpers ----------------------------------------------------------


@pytest.mark.skipif(os.name == "nt", reason="no executable bit on Windows")
def test_docker_run_sh_is_executable():
    assert os.access(RUN_SH, os.X_OK)


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed")
def test_docker_run_sh_is_valid_bash():
    result = subprocess.run(["bash", "-n", str(RUN_SH)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_docker_run_sh_handles_every_subcommand():
    text = RUN_SH.read_text(encoding="utf-8")
    assert "set -euo pipefail" in text
    for command in (*SUBCOMMANDS, "help"):
        assert re.search(rf"^\s*{command}[|)]", text, re.MULTILINE), command


def test_docker_run_ps1_handles_every_subcommand():
    text = RUN_PS1.read_text(encoding="utf-8")
    for command in (*SUBCOMMANDS, "help"):
        assert re.search(rf"^\s*'{command}'\s*\{{", text, re.MULTILINE), command


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed")
def test_docker_run_sh_refuses_prod_without_secrets_and_says_how_to_make_one(tmp_path):
    # A copy in an empty folder, so a developer's own .env cannot leak in; the
    # secret check runs before anything touches Docker.
    script = tmp_path / "docker-run.sh"
    shutil.copy(RUN_SH, script)
    env = {key: value for key, value in os.environ.items() if key not in SECRETS}
    result = subprocess.run(["bash", str(script), "prod"], capture_output=True, text=True, env=env)
    assert result.returncode != 0
    for secret in SECRETS:
        assert secret in result.stderr
    assert "secrets.token_urlsafe" in result.stderr
