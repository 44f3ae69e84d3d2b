"""Bytes on the wire as Chromium counts them (CDP encodedDataLength), per PERFORMANCE.md §2."""
from __future__ import annotations


class Wire:
    def __init__(self, page):
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("Network.enable")
        self.sizes: dict[str, int] = {}
        self.urls: dict[str, str] = {}
        self.cdp.on("Network.requestWillBeSent",
                    lambda e: self.urls.__setitem__(e["requestId"], e["request"]["url"]))
        self.cdp.on("Network.loadingFinished",
                    lambda e: self.sizes.__setitem__(e["requestId"], e["encodedDataLength"]))

    def reset(self):
        self.sizes.clear()
        self.urls.clear()

    @property
    def total(self) -> int:
        return sum(self.sizes.values())

    @property
    def requests(self) -> int:
        """Requests that went over the network (cache hits carry no bytes)."""
        return sum(1 for size in self.sizes.values() if size > 0)

    def throttle(self, latency_ms=840, down_kbit=240, up_kbit=200):
        """The « Edge » profile of WebPageTest."""
        self.cdp.send("Network.emulateNetworkConditions", {
            "offline": False, "latency": latency_ms,
            "downloadThroughput": down_kbit * 1000 / 8, "uploadThroughput": up_kbit * 1000 / 8})
