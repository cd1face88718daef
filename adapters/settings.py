"""Configuration, read from the environment (and `.env`) in one place.

Only the composition roots (CLI commands, the worker entrypoint, the API app factory) call
`get_settings()`; everything else receives what it needs as arguments. The two addresses every
process needs are looked up here too: `Settings.postgres()` / `Settings.dsn()` (PostgreSQL, the
embedded server when DATABASE_URL is unset; `migration_dsn()` the owner's, for migrations) and
`Settings.temporal_target()` (Temporal).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal

from limits import parse_many
from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.db.embedded import EmbeddedPostgres, EmbeddedPostgresError
from adapters.db.roles import DEFAULT_RUNTIME_ROLE, ROLE_NAME, RuntimeRole
from adapters.federation.identity import default_keys_file
from adapters.outbox import DispatchSettings
from adapters.urls import https_or_loopback
from adapters.webhooks import url_problem
from domain.alarms import ReminderPolicy
from domain.approval_policy import ApprovalPolicy


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="READMIT_", env_file=".env", extra="ignore", env_nested_delimiter="__"
    )

    home: Path = Field(
        default=Path(".readmit"), description="where embedded servers keep their data"
    )
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "READMIT_DATABASE_URL"),
        description="PostgreSQL DSN the API and workers connect with (as the runtime role in "
        "production); unset = start an embedded PostgreSQL under `home`",
    )
    agreements_dir: Path | None = Field(
        default=None, description="extra agreement/protocol TOML files overriding the catalogue"
    )
    temporal_address: str | None = Field(
        default=None, description="host:port of a Temporal frontend; unset = embedded dev server"
    )
    temporal_namespace: str = "default"
    queue_prefix: str = Field(
        default="readmit",
        pattern=r"^[a-z0-9-]{1,40}$",
        description="prefix of the Temporal task queues (`<prefix>-cases`, `<prefix>-state-XX`)",
    )
    payload_keys: dict[str, str] = Field(
        default_factory=dict,
        description='Temporal payload keys, JSON {"id": "base64 AES-256 key"}; empty = a dev '
        "keyring generated once under `home` (development only)",
    )
    payload_key_id: str | None = Field(
        default=None, description="id of the payload key used to encrypt (default: the last)"
    )
    master_keys: dict[str, str] = Field(
        default_factory=dict,
        description='master keys wrapping the per-case data keys, JSON {"id": "base64 AES-256 '
        'key"}; empty = a dev key generated once under `home` (development only)',
    )
    master_key_id: str | None = Field(
        default=None, description="id of the master key that wraps new data keys (default: last)"
    )
    retention_schedule: str = Field(
        default="0 2 * * *",
        description="cron (UTC) of the Temporal Schedule erasing expired cases' data keys",
    )
    reminder_half: bool = Field(default=True, description="remind at half the period")
    reminder_working_days_before: int = Field(
        default=1, description="remind this many working days before the due day (09:00)"
    )
    escalate_hours_before: int = Field(
        default=12, description="escalate to the supervisor this many hours before the due instant"
    )
    log_level: str = "INFO"
    notify_channels: tuple[Literal["inbox", "email", "webhook"], ...] = Field(
        default=("inbox", "email", "webhook"),
        description="channels notices are written for (the in-app inbox always works)",
    )
    dispatch: DispatchSettings = Field(
        default_factory=DispatchSettings,
        description="SMTP and webhook delivery, e.g. READMIT_DISPATCH__SMTP_HOST",
    )

    api_host: str = Field(default="127.0.0.1", description="address the API listens on")
    api_port: int = Field(default=8000, ge=1, le=65535, description="port of the API")
    api_keep_alive_seconds: int = Field(
        default=75,
        ge=1,
        description="how long the API keeps an idle HTTP connection open: longer than the idle "
        "timeout of any proxy or client pool in front of it (60 s is common), so that it never "
        "closes a connection just as a request is sent on it",
    )
    jwt_algorithms: tuple[Literal["HS256", "RS256", "ES256"], ...] = Field(
        default=("HS256",),
        description="accepted token algorithms: HS256 (dev, shared secret) or RS256/ES256 (JWKS)",
    )
    jwt_secret: str | None = Field(
        default=None,
        description="HS256 secret of service tokens (`readmit token`); unset with HS256 = one "
        "generated under `home` (development only)",
    )
    jwks_url: str | None = Field(
        default=None,
        description="JWKS URL of the provider's token keys (https, or http on loopback); unset = "
        "the one READMIT_OIDC_ISSUER's discovery names",
    )
    jwks_file: Path | None = Field(default=None, description="JWKS file (instead of a URL)")
    jwt_issuer: str | None = Field(
        default=None,
        description="the `iss` RS256/ES256 tokens must carry (required with them; unset = "
        "READMIT_OIDC_ISSUER)",
    )
    jwt_audience: str | None = Field(
        default=None, description="the `aud` RS256/ES256 tokens must carry (required with them)"
    )
    audit_signing_key: str | None = Field(
        default=None,
        description="base64 Ed25519 seed signing audit bundles and checkpoints; unset = a dev "
        "key under `home`",
    )
    codec_cors_origins: tuple[str, ...] = Field(
        default=("http://localhost:8080", "http://127.0.0.1:8080", "http://localhost:8233"),
        description="browser origins (the Temporal web UI) allowed to call /codec",
    )
    sdk_metrics_address: str | None = Field(
        default=None, description="host:port for the Temporal SDK's Prometheus metrics (workers)"
    )
    metrics_address: str | None = Field(
        default=None, description="host:port for Readmit's own Prometheus metrics (workers)"
    )
    token_ttl_minutes: int = Field(default=480, ge=1, description="lifetime of dev tokens")
    workflow_sandbox: bool = Field(
        default=False,
        description="run workflow code in the Temporal sandbox: it re-checks determinism at run "
        "time for about a fifth of a worker's CPU per case; the test suite and the replay of "
        "every recorded history run in it anyway",
    )
    tracing: Literal["none", "otlp", "console"] = Field(
        default="none",
        description="OpenTelemetry traces (API → workflow → activities): `otlp`, `console` or "
        "`none`; needs the `tracing` extra",
    )
    otlp_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT", "READMIT_OTLP_ENDPOINT"),
        description="base URL of the OTLP/HTTP collector (traces go to `/v1/traces`); "
        "unset = http://localhost:4318",
    )
    tracing_service_name: str = Field(
        default="readmit",
        validation_alias=AliasChoices("OTEL_SERVICE_NAME", "READMIT_TRACING_SERVICE_NAME"),
        description="`service.name` of the spans this process exports",
    )
    temporal_port: int = Field(default=7233, ge=1, le=65535, description="dev server gRPC port")
    temporal_ui_port: int = Field(default=8233, ge=1, le=65535, description="dev server UI port")
    # --- anchored history (audit checkpoints) ---
    audit_checkpoint_schedule: str = Field(
        default="0 * * * *",
        description="cron (UTC) of the Temporal Schedule taking signed audit checkpoints (every "
        "case's head) for the checkpoint sinks; no sink = no schedule",
    )
    audit_checkpoint_dir: Path | None = Field(
        default=None,
        description="existing directory each checkpoint is written to as a new file; mount "
        "there what the database's administrators cannot rewrite",
    )
    audit_checkpoint_webhook_url: str | None = Field(
        default=None,
        description="https URL each checkpoint is POSTed to, signed with the audit signing key "
        "(Standard Webhooks `v1a`); plain http only to a loopback address",
    )

    # --- escalation repeats (issue 17, domain.escalations) ---
    repeat_escalation_hours: int = Field(
        default=24,
        ge=0,
        le=24 * 14,
        description="send a passed limit's escalation to the supervisors again this many hours "
        "after the last, while the limit runs and nobody acknowledged it (0: never)",
    )

    @model_validator(mode="after")
    def _checkpoint_webhook_url(self) -> Settings:
        url = self.audit_checkpoint_webhook_url
        if url is not None and (problem := url_problem(url, production=self.production)):
            raise ValueError(f"READMIT_AUDIT_CHECKPOINT_WEBHOOK_URL is refused: {problem}")
        return self

    # --- least privilege in PostgreSQL ---
    migration_database_url: str | None = Field(
        default=None,
        description="PostgreSQL DSN of the owner role: `readmit db migrate`, `readmit run` and the "
        "directory and registry imports use it; unset = DATABASE_URL. The API and workers never "
        "read it: they connect with DATABASE_URL, as the runtime role",
    )
    db_runtime_role: str = Field(
        default=DEFAULT_RUNTIME_ROLE,
        pattern=ROLE_NAME.pattern,
        description="the role the API and workers connect as; `readmit db migrate` creates it if "
        "missing (without LOGIN unless told) and grants it exactly adapters/db/privileges.py",
    )
    db_runtime_password: str | None = Field(
        default=None,
        description="password of the runtime role: when set, `readmit db migrate` gives the role "
        "LOGIN with it, and `readmit run` logs its processes in with it",
    )

    # --- production mode, secrets and web hardening ---
    env: Literal["development", "production"] = Field(
        default="development",
        description="`production`: no generated key, no demo sign-in, a missing or weak secret "
        "stops the process (exit 2), no pasted tokens on the sign-in page, webhooks go over "
        "https to public addresses only; `readmit "
        "api`, `readmit worker` and the image default to it, `readmit run` is `development`",
    )
    command_signing_key: str | None = Field(
        default=None,
        description="base64 Ed25519 seed with which the API signs the commands it sends to "
        "Temporal (the workers verify them); unset = a dev key under `home`",
    )
    trusted_proxies: tuple[str, ...] = Field(
        default=(),
        description='addresses or networks (JSON list, e.g. ["10.0.0.0/8"]) of the reverse '
        "proxies whose X-Forwarded-For and X-Forwarded-Proto the API believes; empty = none",
    )
    api_docs: bool | None = Field(
        default=None,
        description="serve `/docs` and `/openapi.json` (self-hosted Swagger UI); unset = on in "
        "development, off in production",
    )
    hsts_seconds: int = Field(
        default=31_536_000,
        ge=0,
        description="`max-age` of the Strict-Transport-Security header the API sends in "
        "production (0 = no header)",
    )
    rate_limit_sign_in: str = Field(
        default="30/minute;300/hour",
        description="sign-in attempts per client address (POST /ui/sign-in, /ui/sign-in/*, "
        "/auth/*), in the `limits` notation; empty = no limit",
    )
    rate_limit_writes: str = Field(
        default="1200/minute",
        description="writes (POST, PUT, PATCH, DELETE) per client address; empty = no limit",
    )
    rate_limit_writes_per_principal: str = Field(
        default="300/minute",
        description="writes per signed-in user, whichever address they come from; empty = no limit",
    )
    rate_limit_storage: str = Field(
        default="memory://",
        description="where the rate-limit counters live (`limits` storage URI): `memory://` "
        "counts per API process; a shared store (e.g. `redis://...`, with its client "
        "installed) counts across them",
    )

    @field_validator("rate_limit_sign_in", "rate_limit_writes", "rate_limit_writes_per_principal")
    @classmethod
    def _rate_limit_parses(cls, value: str) -> str:
        if value.strip():
            try:
                parse_many(value)
            except ValueError:
                raise ValueError(
                    f"{value!r} is not a rate limit such as 10/minute or 10/minute;60/hour"
                ) from None
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            try:
                ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError:
                raise ValueError(
                    f"{entry!r} is not an IP address or network such as 10.0.0.0/8"
                ) from None
        return tuple(entry.strip() for entry in value)

    @property
    def production(self) -> bool:
        """Production mode: every secret comes from the settings, none is ever generated."""
        return self.env == "production"

    # --- sign-in (OpenID Connect) and web sessions ---
    oidc_issuer: str | None = Field(
        default=None,
        description="issuer URL of the identity provider (OpenID Connect discovery at "
        "`<issuer>/.well-known/openid-configuration`); https, or http on a loopback host; "
        "unset = no sign-in through a provider",
    )
    oidc_client_id: str | None = Field(
        default=None, description="this app's client id at the identity provider"
    )
    oidc_client_secret: SecretStr | None = Field(
        default=None,
        description="this app's client secret at the identity provider (confidential client)",
    )
    oidc_scopes: tuple[str, ...] = Field(
        default=("openid", "profile", "email"),
        description="scopes asked for at sign-in (`openid` is always added)",
    )
    oidc_redirect_url: str | None = Field(
        default=None,
        description="this app's callback as registered at the provider, ending in "
        "`/ui/sign-in/oidc/callback`, e.g. https://readmit.example.org/ui/sign-in/oidc/callback",
    )
    oidc_user_claim: str = Field(
        default="sub",
        description="claim naming the user (dotted path into the ID token and userinfo; "
        "falls back to `sub` when absent); `preferred_username` only if the provider keeps "
        "usernames unique and not editable",
    )
    oidc_role_claim: str = Field(
        default="realm_access.roles",
        description="claim holding the user's roles or groups (dotted path; a string or a list)",
    )
    oidc_role_map: dict[str, Literal["officer", "supervisor", "auditor", "admin"]] = Field(
        default_factory=dict,
        description='JSON {"claim value": "officer|supervisor|auditor|admin"}: which values of '
        "the role claim make which Readmit role; a user mapped to none is refused",
    )
    oidc_state_claim: str = Field(
        default="readmit_state",
        description="claim holding the user's state(s) (dotted path; a string or a list)",
    )
    oidc_state_pattern: str = Field(
        default=r"^([A-Z]{2})$",
        description="regular expression a state claim value must match; its first group is the "
        "ISO code (e.g. `^/states/([A-Z]{2})$` for Keycloak groups)",
    )
    jwks_min_refresh_seconds: int = Field(
        default=60,
        ge=1,
        description="a token naming an unknown key id refetches the provider's key set at most "
        "once per this many seconds",
    )
    session_ttl_minutes: int = Field(
        default=480,
        ge=1,
        description="lifetime of a web session (a row in `web_sessions`); sign-out ends it sooner",
    )

    # --- Temporal security ---
    temporal_tls: bool = Field(
        default=False,
        description="connect to Temporal over TLS, checked against the system's CAs unless "
        "`temporal_tls_server_ca` is set; any other `temporal_tls_*` setting turns TLS on too, "
        "and so does an API key",
    )
    temporal_tls_server_ca: Path | None = Field(
        default=None,
        description="PEM file of the CA(s) the Temporal frontend's certificate is checked against",
    )
    temporal_tls_server_name: str | None = Field(
        default=None,
        description="name the frontend's certificate must carry (also sent as TLS SNI), when "
        "it is not the host of the address",
    )
    temporal_tls_client_cert: Path | None = Field(
        default=None,
        description="PEM client certificate for mutual TLS (with `temporal_tls_client_key`)",
    )
    temporal_tls_client_key: Path | None = Field(
        default=None, description="PEM private key of `temporal_tls_client_cert`"
    )
    temporal_api_key: SecretStr | None = Field(
        default=None,
        description="API key sent as `Authorization: Bearer` on every Temporal call (Temporal "
        "Cloud, or a frontend with an authorizer); turns TLS on",
    )
    command_verify_keys: tuple[str, ...] = Field(
        default=(),
        description="base64 Ed25519 public keys whose command signatures the workers accept "
        "(JSON list), besides that of `command_signing_key`: the previous key while a new one "
        "rolls out, or the only keys of workers that hold no signing key",
    )
    command_signature_max_age_seconds: int = Field(
        default=900,
        ge=30,
        description="how long a command's signature stays valid (the API's and the workers' "
        "clocks compared); longer than the API's wait for a busy case (120 s)",
    )

    # --- federation (issue 16): this installation as one state's node ---
    node_state: str | None = Field(
        default=None,
        pattern=r"^[A-Z]{2}$",
        description="the state this installation is the federated node of (ISO code, e.g. PL); "
        "unset = not a federated node",
    )
    node_url: str | None = Field(
        default=None,
        description="this node's base URL as its peers reach it (https, or http on a loopback "
        "host), written into its descriptor",
    )
    node_keys_file: Path | None = Field(
        default=None,
        description="the node's key file (private Ed25519 and X25519 JWKs, mode 0600); unset = "
        "`<home>/nodes/<node_state>/node-keys.json`",
    )
    federation_clock_skew_seconds: int = Field(
        default=120,
        ge=1,
        le=3600,
        description="how far a peer's signed instants may be ahead of this node's clock, and "
        "how long after a due instant the waiting node still counts a reply sent before it",
    )
    federation_max_message_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        le=1_048_576,  # the API's body cap (api/limits.py)
        description="largest federation message or receipt accepted from a peer, in bytes",
    )
    federation_key_overlap_days: int = Field(
        default=7,
        ge=0,
        description="after `readmit peers rotate`, how many days a peer's previous keys are "
        "still accepted (default of `--overlap-days`)",
    )
    # --- person search (issue 17) ---
    search_key: str | None = Field(
        default=None,
        description="the key (base64, 32 bytes) of the person search's blind index: keyed "
        "hashes of names, birth dates and document numbers (unset in development: generated "
        "under `home`; required in production; changing it means rebuilding the projection)",
    )

    # --- attachments (issue 17): sealed scans, photos and documents of a case ----------------
    attachment_max_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1024,
        le=100 * 1024 * 1024,
        description="largest attachment accepted, in bytes (larger: 413)",
    )
    attachment_store: Literal["postgres", "s3"] = Field(
        default="postgres",
        description="where the sealed bytes of attachments are kept: PostgreSQL, or an "
        "S3-compatible object store (the READMIT_ATTACHMENT_S3_* settings)",
    )
    attachment_s3_endpoint: str | None = Field(
        default=None, description="host[:port] of the S3-compatible store, e.g. s3.example:9000"
    )
    attachment_s3_bucket: str = Field(
        default="readmit-attachments", min_length=3, max_length=63, description="its bucket"
    )
    attachment_s3_access_key: str | None = Field(default=None, description="its access key")
    attachment_s3_secret_key: SecretStr | None = Field(default=None, description="its secret")
    attachment_s3_region: str | None = Field(default=None, description="its region, if any")
    attachment_s3_secure: bool = Field(default=True, description="HTTPS to the store")

    @field_validator("node_state", "node_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        """An empty variable (compose's `${X:-}`) leaves the setting unset."""
        return None if value == "" else value

    @field_validator("node_url")
    @classmethod
    def _node_url(cls, value: str | None) -> str | None:
        if value is not None and not https_or_loopback(value):
            raise ValueError(f"{value!r} must be https://…, or http:// to a loopback host")
        return value

    def node_keys_path(self, state: str | None = None) -> Path | None:
        """The node's key file: READMIT_NODE_KEYS_FILE, else the default one of `state` (or
        READMIT_NODE_STATE) under `home`; None when neither names a state."""
        if self.node_keys_file is not None:
            return self.node_keys_file
        state = state or self.node_state
        return None if state is None else default_keys_file(self.home, state)

    def postgres(self, given: str | None = None) -> str | EmbeddedPostgres:
        """Where PostgreSQL is: `given` (a `--database-url` option), else DATABASE_URL, else the
        embedded server under `home`, not started yet. `dsn()` starts that server; `readmit
        run` starts it itself, to stop it again on the way out."""
        return given or self.database_url or EmbeddedPostgres(self.home)

    def dsn(self, given: str | None = None) -> str:
        """The DSN of `postgres(given)`, starting the embedded server if it is not running. A
        server that cannot be started raises `ConfigurationError` with one line saying so."""
        source = self.postgres(given)
        if isinstance(source, str):
            return source
        try:
            return source.start()
        except EmbeddedPostgresError as error:
            raise ConfigurationError(
                f"no PostgreSQL: DATABASE_URL is unset and the embedded server did not start: "
                f"{_first_line(error)}"
            ) from None

    def migration_dsn(self, given: str | None = None) -> str:
        """The owner's DSN: `given`, else READMIT_MIGRATION_DATABASE_URL, else what `dsn()`
        gives (DATABASE_URL, else the embedded server, started if need be)."""
        return self.dsn(given or self.migration_database_url)

    def runtime_role(self, *, login: bool = False) -> RuntimeRole:
        """The runtime role migrations grant to; LOGIN when `login` or a password is set."""
        return RuntimeRole(self.db_runtime_role, login=login, password=self.db_runtime_password)

    def temporal_target(self, given: str | None = None) -> str:
        """`given` (a `--temporal-address` option), else READMIT_TEMPORAL_ADDRESS; no address
        raises `ConfigurationError` (only `readmit run` starts a dev server of its own)."""
        target = given or self.temporal_address
        if not target:
            raise ConfigurationError(
                "no Temporal server: set READMIT_TEMPORAL_ADDRESS, pass --temporal-address "
                "or use `readmit run`"
            )
        return target

    def reminder_policy(self) -> ReminderPolicy:
        return ReminderPolicy(
            half=self.reminder_half,
            working_days_before=self.reminder_working_days_before,
            escalate_hours_before=self.escalate_hours_before,
            repeat_escalation_hours=self.repeat_escalation_hours,
        )

    # --- a reply's approval (issue 17; domain.reply_approval, docs/api.md) -----------------
    reply_approval: str = Field(
        default="",
        max_length=2000,
        description="replies that await a supervisor's approval before they leave, per replying "
        "state and agreement: `PL:EU-UA,UA:*` (empty: none)",
    )

    @field_validator("reply_approval")
    @classmethod
    def _reply_approval_parses(cls, value: str) -> str:
        ApprovalPolicy.parse(value)
        return value

    def approval_policy(self) -> ApprovalPolicy:
        return ApprovalPolicy.parse(self.reply_approval)

    # --- monitoring (issue 18; docs/operations.md, "Monitoring") ------------------------------
    metrics_token: SecretStr | None = Field(
        default=None,
        description="the scrape secret: `GET /metrics` answers `Authorization: Bearer <it>` "
        "(no user token needed); required in production (`readmit keys init` prints one)",
    )

    # --- worker versioning (issue 18; workers/versioning.py, docs/operations.md) -------------
    worker_deployment: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_-]{1,100}$",
        description="the Temporal worker deployment the case queue's workers belong to (e.g. "
        "`readmit`); unset = unversioned workers (development, tests, `readmit run`)",
    )
    build_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9._+-]{1,255}$",
        description="this release's build id in the worker deployment; unset = the package "
        "version and a hash of the workflow and domain code, e.g. `0.2.0+3f9c0a1b2c4d`",
    )
    worker_versioning_behavior: Literal["auto_upgrade", "pinned"] = Field(
        default="auto_upgrade",
        description="how the case queue's workflows follow new versions: `auto_upgrade` moves "
        "running cases to the current version (releases are replay-compatible, patched where "
        "needed), `pinned` keeps each on the version it started on until it ends",
    )

    @field_validator("worker_deployment", "build_id", mode="before")
    @classmethod
    def _blank_version_is_unset(cls, value: object) -> object:
        """An empty variable (compose's `${X:-}`) leaves the setting unset."""
        return None if value == "" else value


class ConfigurationError(Exception):
    """A setting the process needs is missing or unusable; the message is one line for the user."""


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
