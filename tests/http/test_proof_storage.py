# SPDX-License-Identifier: MIT
"""Storage faults (issue 5), the short version of tests/proof/storage_faults.py:
the same sweep with small sizes (every kind, mode once; the kill sweeps for
sync only), and one faulted answer checked against openapi.yaml by Prism."""
import importlib.util
import os
import re
import signal
import tempfile

from conftest import ROOT, SECRET, Api, assert_problem, prism_proxy, valid_case

import pytest
# The SQLite fault shim (tests/fault) under the store: SQLite's alone.
pytestmark = pytest.mark.sqlite_only

_spec = importlib.util.spec_from_file_location(
    "storage_faults", os.path.join(ROOT, "tests", "proof", "storage_faults.py"))
storage_faults = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(storage_faults)


def test_no_201_without_its_row_and_the_service_keeps_serving():
    with tempfile.TemporaryDirectory(prefix="inkasso-proof-storage-") as logs:
        fig = storage_faults.run(storage_faults.parse_args(["--quick", "--logs", logs]))
        assert fig["failures"] == 0 and fig["ok"], fig
        assert fig["without_row_201"] == 0
        assert fig["kept_serving"] == fig["tried"]
        assert fig["integrity_ok"] == fig["integrity_checks"] > 0
        assert fig["final_get_ok"] == fig["final_acked"] > 0 and fig["final_integrity_ok"]
        # Every kind made creates fail, and only with a 500 internal_error.
        for kind in storage_faults.KINDS:
            assert fig[f"{kind}_once_non_201"] > 0, kind
            assert re.fullmatch(r"201 x1, (201 beside a checkpoint fault x\d+, )?500 internal_error x\d+",
                                fig[f"{kind}_once_answers"]), fig
        # A refused create that is stored anyway (the sync failed, the data
        # did not) is replayed by its retry and named by a 409 without a key.
        assert fig["non_201_with_row"] == fig["non_201_with_row_replayed"]
        assert fig["non_201_with_row"] == fig["non_201_with_row_dup409"]
        # The logs of every process: no personal data, no token.
        names = os.listdir(logs)
        assert names and all(n.startswith("storage_faults-") for n in names)
        for name in names:
            with open(os.path.join(logs, name), encoding="utf-8", errors="replace") as f:
                text = f.read()
            for secret in ("Nordmann", "kari@example.no", "4791234567", "Storgata", "eyJ"):
                assert secret not in text, (name, secret)


def test_the_faulted_answer_is_the_documented_500():
    args = storage_faults.parse_args([])
    with tempfile.TemporaryDirectory(prefix="inkasso-proof-storage-") as d:
        control = storage_faults.Control(d)
        svc = storage_faults.Proc(args.bin, os.path.join(d, "inkasso.db"), d, "contract",
                                  {"INKASSO_FAULT_FILE": control.path, "INKASSO_JWT_SECRET": SECRET})
        try:
            with prism_proxy(svc.url) as base:
                api = Api(base)
                api.configure("t_storage")
                tag = control.arm("full", 1, "persist")
                r = api.post("/v1/collection-cases", "t_storage", json=valid_case("SF-1"),
                             headers={"Idempotency-Key": "sf-1"})
                assert_problem(r, 500, "internal_error")
                assert control.fired(tag), "the fault was not met"
                control.off()
                r = api.get("/readyz")
                assert r.status_code == 200, r.text
                r = api.post("/v1/collection-cases", "t_storage", json=valid_case("SF-1"),
                             headers={"Idempotency-Key": "sf-1"})
                assert r.status_code == 201, r.text
        finally:
            assert svc.stop(signal.SIGTERM) == 0
