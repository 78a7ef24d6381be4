"""Classes 3 and 4: the login throttle against a client that lies or spells differently.

Each probe uses its own loopback source address (127.0.0.x: nginx sees a distinct client), so
one probe's counters never touch another's.

3. X-Forwarded-For / X-Real-IP naming a new address on every failed login: the per-(account,
   client) limit still answers 429 after PAIR_LIMIT failures, through nginx on both prefixes.
4. One account, failures under different spellings (username, email, case, spaces) count as one;
   a stranger's failures from elsewhere do not lock the owner out beyond the capped backoff; a
   burst of failures for unknown names from an address does not refuse the correct-password login
   of someone who logged in from that address before.
"""

from __future__ import annotations

import itertools

import httpx

from bench.hostile.accounts import register
from bench.hostile.report import ClassReport, describe
from bench.hostile.stack import PREFIXES, HostileStack

# The policy's figures as the contract and README state them (1.3, Security), not imported: the
# probe checks the deployment against the written policy, whatever the code calls them.
PAIR_LIMIT = 10  # failures of one account from one client before 429
ACCOUNT_LIMIT = 30  # failures of one account from anywhere before the capped backoff
CLIENT_LIMIT = 100  # failures from one address over any accounts
BACKOFF_CAP_SECONDS = 300  # the longest a stranger's failures can keep an owner waiting

_addresses = itertools.count(10)


def next_address() -> str:
    return f"127.0.0.{next(_addresses)}"


def fail_login(client: httpx.Client, prefix: str, identifier: str, headers: dict[str, str] | None = None
               ) -> httpx.Response:
    return client.post(f"{prefix}/auth/login", json={"username": identifier, "password": "not-the-password"},
                       headers=headers or {})


def probe_spoofed_forwarding(stack: HostileStack) -> ClassReport:
    report = ClassReport(3, "X-Forwarded-For / X-Real-IP spoofing vs the login throttle")
    # From 127.0.0.1 too: the address the proxy itself uses, which a door trusting loopback must
    # still not take a client's word for.
    for door, prefix in PREFIXES.items():
        for source in ("127.0.0.1", next_address()):
            account = register(stack, f"spoof-{door}")
            statuses = []
            with stack.new_client(source) as client:
                for n in range(PAIR_LIMIT + 2):
                    spoofed = f"203.0.113.{n + 1}"
                    response = fail_login(client, prefix, account["username"],
                                          {"X-Forwarded-For": f"198.51.100.{n + 1}, {spoofed}", "X-Real-IP": spoofed})
                    statuses.append(response.status_code)
            report.check(statuses[PAIR_LIMIT:] == [429, 429],
                         f"{door} from {source}: {PAIR_LIMIT + 2} failures under spoofed addresses answered {statuses}")
    return report


def _spellings(account: dict[str, str]) -> list[str]:
    return [account["username"], account["email"], account["username"].upper(), f"  {account['email'].upper()} "]


def probe_throttle_policy(stack: HostileStack) -> ClassReport:
    report = ClassReport(4, "throttle by spelling, stranger lockout, unknown-name burst")
    for door, prefix in PREFIXES.items():
        # One counter per account, whatever names it.
        account = register(stack, f"spell-{door}")
        spellings = _spellings(account)
        with stack.new_client(next_address()) as client:
            statuses = [fail_login(client, prefix, spellings[n % len(spellings)]).status_code
                        for n in range(PAIR_LIMIT + 2)]
        report.check(statuses[PAIR_LIMIT:] == [429, 429],
                     f"{door}: {PAIR_LIMIT + 2} failures under 4 spellings of one account answered {statuses}")

        # A stranger elsewhere cannot keep the owner out longer than the capped backoff.
        owner = register(stack, f"lockout-{door}")
        cap = BACKOFF_CAP_SECONDS
        with stack.new_client(next_address()) as stranger, stack.new_client(next_address()) as own:
            for _ in range(ACCOUNT_LIMIT + 5):
                fail_login(stranger, prefix, owner["username"])
            for attempt in ("after the stranger's burst", "after 10 more failures"):
                response = own.post(f"{prefix}/auth/login",
                                    json={"username": owner["username"], "password": owner["password"]})
                wait = int(response.headers.get("Retry-After") or 0)
                report.check(response.status_code == 200 or (response.status_code == 429 and wait <= cap),
                             f"{door}: owner's correct login {attempt}: {describe(response)} Retry-After {wait}")
                for _ in range(10):
                    fail_login(stranger, prefix, owner["username"])

        # Unknown names from one address do not refuse a real login from it by someone who has
        # logged in from there before (README, Security: a newcomer waits out the address lock).
        person = register(stack, f"burst-{door}")
        with stack.new_client(next_address()) as shared:
            earlier = shared.post(f"{prefix}/auth/login",
                                  json={"username": person["username"], "password": person["password"]})
            report.check(earlier.status_code == 200, f"{door}: the person's first login: {describe(earlier)}")
            for n in range(CLIENT_LIMIT + 5):
                fail_login(shared, prefix, f"nobody-{door}-{n}")
            response = shared.post(f"{prefix}/auth/login",
                                   json={"username": person["username"], "password": person["password"]})
        report.check(response.status_code == 200,
                     f"{door}: correct login after {CLIENT_LIMIT + 5} unknown-name failures from its address: "
                     f"{describe(response)}")
    return report
