"""Write the e-mail test files in tests/data/mail (run once; the files are committed).

- ``support.mbox``: a thread of three (the customer, the shop's reply, the customer again with
  a photo attached as multipart/mixed) and one message from another customer.
- ``folder/``: .eml files: one with a raw Latin-1 Subject (not UTF-8) and an HTML body, a
  reply to it threaded by References only, a message with a card number in its text, and a
  file that is not an e-mail at all.
- ``maildir/``: a Maildir holding one message.
"""

from __future__ import annotations

import base64
from pathlib import Path

HERE = Path(__file__).parent / "mail"

ANN_1 = b"""From: Ann Lee <ann@example.com>
To: Corner Store <support@cornerstore.example>
Subject: Parcel never arrived
Date: Mon, 02 Mar 2026 09:00:00 +0000
Message-ID: <ann-1@mail.example.com>
Content-Type: text/plain; charset=utf-8

Hello, my order A-1001 was due on Friday and has not arrived.
Ann
"""

SHOP_1 = b"""From: Corner Store <support@cornerstore.example>
To: Ann Lee <ann@example.com>
Subject: Re: Parcel never arrived
Date: Mon, 02 Mar 2026 11:30:00 +0000
Message-ID: <shop-1@cornerstore.example>
In-Reply-To: <ann-1@mail.example.com>
References: <ann-1@mail.example.com>
Content-Type: text/plain; charset=utf-8

Sorry Ann, we are checking with the courier.
"""

PHOTO = base64.encodebytes(b"\xff\xd8\xff\xe0 not really a jpeg " * 20).decode()
ANN_2 = f"""From: Ann Lee <ann@example.com>
To: Corner Store <support@cornerstore.example>
Subject: Re: Parcel never arrived
Date: Tue, 03 Mar 2026 08:15:00 +0000
Message-ID: <ann-2@mail.example.com>
In-Reply-To: <shop-1@cornerstore.example>
References: <ann-1@mail.example.com> <shop-1@cornerstore.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="XYZ"

--XYZ
Content-Type: text/plain; charset=utf-8

It came today but the box was crushed, photo attached.
--XYZ
Content-Type: image/jpeg
Content-Disposition: attachment; filename="box.jpg"
Content-Transfer-Encoding: base64

{PHOTO}
--XYZ--
""".encode()

BOB_1 = b"""From: bob@example.org
To: support@cornerstore.example
Subject: Invoice question
Date: Wed, 04 Mar 2026 10:00:00 +0000
Message-ID: <bob-1@example.org>
Content-Type: text/plain; charset=utf-8

Why was I charged twice on invoice INV-77?
"""

# A Subject in raw Latin-1 bytes (no encoded-word), as some old mail programs send, and an
# HTML-only body in Latin-1.
CAFE_1 = (
    b"From: =?utf-8?q?Ren=C3=A9e_Dupont?= <renee@example.fr>\n"
    b"To: support@cornerstore.example\n"
    b"Subject: Caf\xe9 cr\xe8me mugs arrived broken\n"
    b"Date: Thu, 05 Mar 2026 14:00:00 +0100\n"
    b"Message-ID: <renee-1@example.fr>\n"
    b"MIME-Version: 1.0\n"
    b"Content-Type: text/html; charset=iso-8859-1\n"
    b"\n"
    b"<html><body><p>Two of the caf\xe9 mugs are broken.</p><p>Ren\xe9e</p></body></html>\n"
)

CAFE_2 = b"""From: renee@example.fr
To: support@cornerstore.example
Subject: Re: mugs
Date: Fri, 06 Mar 2026 09:00:00 +0100
Message-ID: <renee-2@example.fr>
References: <renee-1@example.fr>
Content-Type: text/plain; charset=utf-8

Any news? You can charge my card 4111 1111 1111 1111 for new ones.
"""

GARBAGE = bytes(range(256)) * 4

DIANA = b"""From: Diana Prince <diana@example.com>
To: support@cornerstore.example
Subject: Wrong size sent
Date: Sat, 07 Mar 2026 12:00:00 +0000
Message-ID: <diana-1@example.com>
Content-Type: text/plain; charset=utf-8

I ordered a medium and got a small.
"""


def _mbox(*messages: bytes) -> bytes:
    out = b""
    for message in messages:
        sender = message.split(b"\n", 1)[0].split(b"<")[-1].rstrip(b">").split(b" ")[-1]
        out += b"From " + sender + b" Mon Mar  2 09:00:00 2026\n" + message + b"\n"
    return out


def main() -> None:
    (HERE / "support.mbox").write_bytes(_mbox(ANN_1, SHOP_1, ANN_2, BOB_1))
    (HERE / "folder" / "01-renee.eml").write_bytes(CAFE_1)
    (HERE / "folder" / "02-renee-reply.eml").write_bytes(CAFE_2)
    (HERE / "folder" / "03-garbage.eml").write_bytes(GARBAGE)
    (HERE / "maildir" / "new" / "1772884800.M1P1.host").write_bytes(DIANA)
    for sub in ("cur", "tmp"):
        (HERE / "maildir" / sub / ".keep").write_bytes(b"")


if __name__ == "__main__":
    main()
