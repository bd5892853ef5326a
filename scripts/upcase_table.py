#!/usr/bin/env python3
"""Prints the kRuns table of src/registry/upcase.cpp: the Unicode simple uppercase mapping of
the Basic Multilingual Plane as runs of characters that map by the same offset.

Python's str.upper() gives the full mapping; where that is one character it is the simple one.
Where it is several, the simple mapping is the character itself except for the Greek letters
with ypogegrammeni, listed here. The table follows this Python's Unicode version
(unicodedata.unidata_version; 14.0 for the table checked in).
"""
import unicodedata

SPECIAL = {}
for base in (0x1F80, 0x1F90, 0x1FA0):
    for i in range(8):
        SPECIAL[base + i] = base + i + 8
SPECIAL.update({0x1FB3: 0x1FBC, 0x1FC3: 0x1FCC, 0x1FF3: 0x1FFC})


def mapping():
    m = {}
    for cp in range(0x10000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        if cp in SPECIAL:
            m[cp] = SPECIAL[cp]
            continue
        upper = chr(cp).upper()
        if len(upper) == 1 and ord(upper) != cp:
            m[cp] = ord(upper)
    return m


def runs(m):
    items = sorted(m.items())
    out = []
    i = 0
    while i < len(items):
        cp, up = items[i]
        offset = up - cp
        j = i  # stride 1
        while (j + 1 < len(items) and items[j + 1][0] == items[j][0] + 1
               and items[j + 1][1] - items[j + 1][0] == offset):
            j += 1
        k = i  # stride 2
        while (k + 1 < len(items) and items[k + 1][0] == items[k][0] + 2
               and items[k + 1][1] - items[k + 1][0] == offset):
            k += 1
        if k > j:
            out.append((cp, items[k][0], 2, offset))
            i = k + 1
        else:
            out.append((cp, items[j][0], 1, offset))
            i = j + 1
    return out


def lookup(table, c):
    for first, last, stride, offset in table:
        if first <= c <= last and (c - first) % stride == 0:
            return c + offset
    return c


def main():
    m = mapping()
    table = runs(m)
    for cp in range(0x10000):  # the runs give exactly the mapping
        if not 0xD800 <= cp <= 0xDFFF:
            assert lookup(table, cp) == m.get(cp, cp), hex(cp)
    print(f"// Unicode {unicodedata.unidata_version}: {len(m)} characters in {len(table)} runs")
    for first, last, stride, offset in table:
        print(f"    {{0x{first:04X}, 0x{last:04X}, {stride}, {offset}}},")


if __name__ == "__main__":
    main()
