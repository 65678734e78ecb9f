"""Prod verifies the database server's certificate (issue 10, §1): sslmode=verify-full against the
RDS CA bundle shipped in the functions' code asset, for every function that reaches the database."""

from __future__ import annotations

import json
import ssl
from pathlib import Path
from typing import Any

from aws_cdk import DockerImage

from assistec.db.connection import RDS_CA_BUNDLE, conninfo_from_settings
from assistec.settings import DatabaseSettings
from assistec_infra import constants
from assistec_infra.bundling import _FunctionCode
from tests.infra.templates import _functions, _template


def _common_names(bundle: Path) -> set[str]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile=str(bundle))  # refuses a file that is not PEM certificates
    names = set()
    for cert in context.get_ca_certs():
        subject: Any = cert["subject"]
        names.add(dict(pair[0] for pair in subject)["commonName"])
    return names


def test_the_code_asset_ships_the_rds_ca_bundle(tmp_path: Path) -> None:
    # Given the functions' code asset, as `cdk deploy` uploads it
    assert _FunctionCode().try_bundle(str(tmp_path), image=DockerImage.from_registry("unused"))
    bundle = tmp_path / constants.RDS_CA_BUNDLE
    # Then the bundle is where the prod environment points (under Lambda's task root) ...
    assert bundle.is_file()
    names = _common_names(bundle)
    # ... and holds the roots RDS Proxy's certificates chain to and the prod region's RDS roots
    assert {"Amazon Root CA 1", "Starfield Services Root Certificate Authority - G2"} <= names
    assert {
        "Amazon RDS sa-east-1 Root CA RSA2048 G1",
        "Amazon RDS sa-east-1 Root CA RSA4096 G1",
        "Amazon RDS sa-east-1 Root CA ECC384 G1",
    } <= names
    assert bundle.read_bytes() == RDS_CA_BUNDLE.read_bytes()


def test_verifying_modes_use_the_shipped_bundle_unless_told_otherwise() -> None:
    secret = json.dumps({"host": "db", "username": "u", "password": "p", "dbname": "assistec"})

    def conninfo(**settings: str) -> dict[str, str]:
        text = conninfo_from_settings(DatabaseSettings(db_secret_id="s", **settings), lambda _: secret)  # type: ignore[arg-type]
        return dict(part.split("=", 1) for part in text.split())

    # Given verify-full without a bundle path: the shipped bundle (libpq's default file exists nowhere)
    assert conninfo(db_sslmode="verify-full")["sslrootcert"] == str(RDS_CA_BUNDLE)
    # Given the path the prod stage sets
    assert (
        conninfo(db_sslmode="verify-full", db_sslrootcert="/var/task/x.pem")["sslrootcert"]
        == "/var/task/x.pem"
    )
    # Given a mode that verifies nothing: no bundle is named
    assert "sslrootcert" not in conninfo(db_sslmode="require")


def test_every_prod_function_on_the_database_verifies_the_server(prod_stack: Any) -> None:
    template = _template(prod_stack)
    path = f"{constants.LAMBDA_TASK_ROOT}/{constants.RDS_CA_BUNDLE}"
    on_database = [
        f["Properties"]["Environment"]["Variables"]
        for f in _functions(template).values()
        if "DB_SECRET_ID" in f["Properties"].get("Environment", {}).get("Variables", {})
    ]
    assert len(on_database) >= 6  # the API, the migrator, the relay, the payment workers, dunning
    for env in on_database:
        assert env["DB_SSLMODE"] == "verify-full"
        assert env["DB_SSLROOTCERT"] == path
    # The instance's certificate comes from a CA in the bundle (the migrator connects to it directly)
    [instance] = template.find_resources("AWS::RDS::DBInstance").values()
    assert instance["Properties"]["CACertificateIdentifier"] == "rds-ca-rsa2048-g1"
    assert "Amazon RDS sa-east-1 Root CA RSA2048 G1" in _common_names(RDS_CA_BUNDLE)
