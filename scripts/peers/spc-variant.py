#!/usr/bin/env python3
"""Writes a ServiceProviderConfig variant for scim2-server's --service-provider-config.

Starts from the default configuration shipped with scim2-server (every feature
supported, filter.maxResults 1000) and switches capabilities off, so tests can
drive a client's PUT fallback (patch unsupported: PATCH answers 501), its
behaviour without ETags (no ETag header is sent) and its paging (pages capped at
maxResults). Run it with the venv's interpreter, which has scim2_server:

    .peers/scim2/bin/python scripts/peers/spc-variant.py \
        --no-patch --no-etag --max-results 50 --out spc.json

Prints the path of the written file as its last line.
"""

import argparse
import json
import os
import sys


def default_config_path() -> str:
    try:
        import scim2_server
    except ModuleNotFoundError:
        sys.exit(
            "spc-variant.py: scim2_server is not importable; run it with "
            ".peers/scim2/bin/python (scripts/peers/install-scim2-server installs it)"
        )
    return os.path.join(
        os.path.dirname(scim2_server.__file__),
        "resources",
        "default-service-provider-config.json",
    )


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", "-o", required=True, help="the JSON file to write")
    parser.add_argument("--base", help="start from this file instead of the default")
    parser.add_argument("--no-patch", action="store_true", help="patch.supported = false")
    parser.add_argument("--no-etag", action="store_true", help="etag.supported = false")
    parser.add_argument("--no-bulk", action="store_true", help="bulk.supported = false")
    parser.add_argument("--no-sort", action="store_true", help="sort.supported = false")
    parser.add_argument(
        "--no-change-password", action="store_true", help="changePassword.supported = false"
    )
    parser.add_argument("--max-results", type=positive, help="filter.maxResults (page cap)")
    parser.add_argument("--bulk-max-operations", type=positive, help="bulk.maxOperations")
    args = parser.parse_args()

    with open(args.base or default_config_path(), encoding="utf-8") as f:
        config = json.load(f)

    def section(name: str) -> dict:
        return config.setdefault(name, {"supported": True})

    if args.no_patch:
        section("patch")["supported"] = False
    if args.no_etag:
        section("etag")["supported"] = False
    if args.no_bulk:
        section("bulk")["supported"] = False
    if args.no_sort:
        section("sort")["supported"] = False
    if args.no_change_password:
        section("changePassword")["supported"] = False
    if args.max_results is not None:
        section("filter")["maxResults"] = args.max_results
    if args.bulk_max_operations is not None:
        section("bulk")["maxOperations"] = args.bulk_max_operations

    # The server refuses to start on an invalid file; fail here, with the reason.
    try:
        from scim2_models import ServiceProviderConfig

        ServiceProviderConfig.model_validate(config)
    except ModuleNotFoundError:
        pass

    out_dir = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    os.replace(tmp, args.out)
    print(os.path.abspath(args.out))


if __name__ == "__main__":
    main()
