#!/usr/bin/env python3
"""Run every scim2-tester check against a SCIM 2.0 server and fail on any failure.

Usage: python3 check.py BASE_URL TOKEN [--strict] [--details]

BASE_URL is the SCIM base, such as http://127.0.0.1:8080/scim/v2, and TOKEN a bearer token for it.
Every check scim2-tester's check_server runs is run, with no tag filtering, plus
core_schemas_validation, which scim2-tester ships but check_server does not call.
Each check prints one line: its status, its title, the resource type it ran on, and its reason.

Exit status: 1 when a check failed or errored (status ERROR or CRITICAL), when no resource
check ran at all (discovery broke before CRUD started), or when the tester itself crashed;
0 otherwise.
With --strict, DEVIATION (a SHOULD not followed) and SKIPPED also count as failures.
With --details, each failing check also prints the data scim2-tester kept about it.
The last line reads 'scim2-tester: N passed, N failed, N skipped'.
"""

import argparse
import sys
import traceback

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import CheckResult
from scim2_tester import Status
from scim2_tester import check_server
from scim2_tester.checkers import core_schemas_validation
from scim2_tester.utils import CheckConfig
from scim2_tester.utils import CheckContext

PASSED = {Status.SUCCESS, Status.COMPLIANT, Status.ACCEPTABLE}
FAILED = {Status.ERROR, Status.CRITICAL}


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run every scim2-tester check against a SCIM server.")
    parser.add_argument("base_url", help="the SCIM base URL, such as http://127.0.0.1:8080/scim/v2")
    parser.add_argument("token", help="a bearer token for the SCIM API")
    parser.add_argument("--strict", action="store_true", help="count DEVIATION and SKIPPED as failures")
    parser.add_argument("--details", action="store_true", help="print the data of failing checks")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request (default 30)")
    return parser.parse_args()


def one_line(text: object) -> str:
    """Collapse a multi-line reason so each check stays on one line."""
    return " | ".join(line.strip() for line in str(text or "").splitlines() if line.strip())


def is_failure(result: CheckResult, strict: bool) -> bool:
    if result.status in FAILED:
        return True
    return strict and result.status in {Status.DEVIATION, Status.SKIPPED}


def label(result: CheckResult, strict: bool) -> str:
    if is_failure(result, strict):
        return "FAIL"
    if result.status in PASSED:
        return "PASS"
    return "WARN" if result.status == Status.DEVIATION else "SKIP"


def run_checks(base_url: str, token: str, timeout: float) -> list[CheckResult]:
    http = Client(
        base_url=base_url.rstrip("/"),
        headers={"Authorization": f"Bearer {token}"},
        timeout=timeout,
    )
    with http:
        scim = SyncSCIMClient(http)
        results = check_server(scim)
        # Shipped by scim2-tester but not called by check_server: /Schemas must list the
        # ServiceProviderConfig, ResourceType and Schema schemas (RFC 7643 §8.7.2).
        results.extend(core_schemas_validation(CheckContext(scim, CheckConfig())))
    return results


def report(results: list[CheckResult], strict: bool, details: bool) -> int:
    failed = passed = skipped = 0
    for result in results:
        where = f" [{result.resource_type}]" if result.resource_type else ""
        verdict = label(result, strict)
        print(f"{verdict} {result.status.name:<10} {result.title}{where}: {one_line(result.reason)}")
        if verdict == "FAIL":
            failed += 1
            if details and result.data is not None:
                print(f"     data: {one_line(repr(result.data))[:2000]}")
        elif verdict == "SKIP":
            skipped += 1
        else:
            passed += 1
    if not any(r.resource_type for r in results):
        print("FAIL ERROR      resource_checks: no resource type was checked; discovery failed above")
        failed += 1
    print(f"scim2-tester: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


def main() -> int:
    args = parse_arguments()
    try:
        results = run_checks(args.base_url, args.token, args.timeout)
    except Exception:  # noqa: BLE001 - the tester crashing is a failure to report, not to hide
        traceback.print_exc()
        print("scim2-tester: 0 passed, 1 failed, 0 skipped")
        return 1
    return report(results, args.strict, args.details)


if __name__ == "__main__":
    sys.exit(main())
