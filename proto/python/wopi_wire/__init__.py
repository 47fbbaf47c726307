"""The protobuf encoding of the contract's content messages, by hand: what both services' `content_wire.py` share.

Hand-written (not generated: `wopi_proto` is), and only the little of the protobuf wire format that the content
messages need. `data` is field 2 of ReadFileResponse, WriteFileRequest and CreateFileRequest, a length-delimited
field: the tag byte 0x12, the length as a base-128 varint, then the bytes. A message that holds only its data is
exactly those three parts. Each service's tests parse what is encoded here with the generated classes
(tests/storage_adapter/test_content_wire.py, tests/frontend/test_content_wire.py).
"""

from __future__ import annotations

DATA_TAG = b"\x12"  # field 2, length-delimited
_DATA_TAG_BYTE = DATA_TAG[0]


def varint(value: int) -> bytes:
    """`value` (not negative) as a protobuf base-128 varint."""
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def only_data(raw: bytes) -> tuple[int, int] | None:
    """Where the data is, (start, end), when `raw` is exactly one `data` field (field 2) and nothing else; else
    None (the caller then parses it with the generated class)."""
    if not raw or raw[0] != _DATA_TAG_BYTE:
        return None
    length, shift, position = 0, 0, 1
    while position < len(raw) and shift < 64:
        byte = raw[position]
        position += 1
        length |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return (position, position + length) if position + length == len(raw) else None
        shift += 7
    return None
