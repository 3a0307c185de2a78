import ipaddress
import socket

from django.core.management.base import BaseCommand

# An address from TEST-NET-1 (RFC 5737): nothing answers there, and connecting a UDP socket sends no packet; it only
# makes the system pick the interface, and so the address, it would send from: the machine's address on its network.
_ANY_REMOTE = ("192.0.2.1", 9)


def lan_address() -> str:
    """This machine's IPv4 address on its local network, or 127.0.0.1 when it has no network."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(_ANY_REMOTE)
            address = probe.getsockname()[0]
    except OSError:
        return "127.0.0.1"
    return address if not ipaddress.ip_address(address).is_unspecified else "127.0.0.1"


class Command(BaseCommand):
    help = "Print this machine's address on its local network (for `make run-lan`: phones in the room use it)."

    def handle(self, *args, **options):
        self.stdout.write(lan_address())
