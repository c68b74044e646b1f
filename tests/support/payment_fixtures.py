"""The payment providers' fakes as fixtures (a pytest plugin, loaded by tests/conftest.py).

`stripe_fake` and `razorpay_fake` are local HTTP servers the real SDKs talk to
(tests/support/fakes/); `stripe_provider` and `razorpay_provider` are our providers pointed at them.

A module whose API and worker should take payments through one of them says so once:

    pytestmark = pytest.mark.payments("stripe")

and conftest's `settings` (and so its `worker`, `app` and `api`) use that provider on its fake;
unmarked modules use the sandbox provider.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from providers.payments import payment_provider
from providers.payments.razorpay import RazorpayProvider
from providers.payments.stripe import StripeProvider
from tests.support.fakes.razorpay_server import FakeRazorpay
from tests.support.fakes.stripe_server import FakeStripe


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "payments(provider): the module's settings take payments through 'stripe' or 'razorpay' "
        "on its local fake (tests/support/payment_fixtures.py)",
    )


@pytest.fixture
def stripe_fake() -> Iterator[FakeStripe]:
    with FakeStripe() as fake:
        yield fake


@pytest.fixture
def razorpay_fake() -> Iterator[FakeRazorpay]:
    with FakeRazorpay() as fake:
        yield fake


@pytest.fixture
def payment_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The settings of the provider the test's `payments` marker names (none: the sandbox's)."""
    marker = request.node.get_closest_marker("payments")
    if marker is None:
        return {}
    name = marker.args[0]
    if name not in ("stripe", "razorpay"):
        raise pytest.UsageError(f"payments({name!r}): the fakes are 'stripe' and 'razorpay'")
    fake: FakeStripe | FakeRazorpay = request.getfixturevalue(f"{name}_fake")
    return fake.provider_settings()


@pytest.fixture
def stripe_provider(stripe_fake: FakeStripe) -> StripeProvider:
    from tests.conftest import make_settings

    provider = payment_provider(make_settings(**stripe_fake.provider_settings()))
    assert isinstance(provider, StripeProvider)
    return provider


@pytest.fixture
def razorpay_provider(razorpay_fake: FakeRazorpay) -> RazorpayProvider:
    from tests.conftest import make_settings

    provider = payment_provider(make_settings(**razorpay_fake.provider_settings()))
    assert isinstance(provider, RazorpayProvider)
    return provider
