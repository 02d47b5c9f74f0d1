"""transport.every_page: every item of a paged BTCPay list, whatever the page size."""

import pytest

from hourly_hooks.btcpay import transport
from hourly_hooks.errors import BTCPayError


@pytest.mark.parametrize("total", [0, 1, 99, 100, 101, 250])
def test_every_item_is_read_once_in_order(total):
    items = list(range(total))
    asked = []

    def fetch(offset):
        asked.append(offset)
        return items[offset:offset + 100]

    assert transport.every_page(fetch, lambda n: n * 2, 100, "prepare") == [n * 2 for n in items]
    assert asked == list(range(0, total // 100 * 100 + 1, 100))


def test_a_page_that_is_not_a_list_is_a_malformed_answer():
    with pytest.raises(BTCPayError):
        transport.every_page(lambda offset: {"error": "x"}, lambda n: n, 100, "prepare")
