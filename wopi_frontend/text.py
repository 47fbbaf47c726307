"""Text that people will see: the characters that must never reach them (in file names and display names alike),
and cleaning a display name, wherever it comes from (a proxy's header, the sessions API). File names have further
rules of their own, in `names.py`."""

from __future__ import annotations

import re

# The characters storage refuses in every name, exactly as the proto's rule for names lists them (storage's
# validation.py holds the same list): controls, format characters (bidirectional controls such as U+202E, which
# makes `invoice\u202excod.exe` show as `invoiceexe.docx`; zero-width characters; the soft hyphen; the byte order
# mark; tags), the line and paragraph separators, and the noncharacters. Checked in the front-end too so that a
# WOPI client gets the WOPI answer for a bad name (names.py), and so that no display name carries them.
INVISIBLE = re.compile(
    "["
    r"\x00-\x1f\x7f-\x9f"  # Cc
    r"\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064"
    r"\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    r"\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"  # Cf, as of Unicode 15.1
    r"\u2028\u2029"  # Zl, Zp
    r"\ufdd0-\ufdef"
    + "".join(rf"\U{plane:04x}fffe-\U{plane:04x}ffff" for plane in range(17))  # noncharacters
    + "]"
)
MAX_DISPLAY_NAME = 256
# Lone surrogates: JSON can express them ("\ud800"), but no UTF-8 text can hold them.
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_display_name(text: str) -> str:
    """`text` without control, invisible formatting and surrogate characters, and without surrounding white
    space."""
    return _SURROGATE.sub("", INVISIBLE.sub("", text)).strip()
