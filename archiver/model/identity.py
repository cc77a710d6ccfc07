"""A catalog item's identity on disk: the bag's directory name is its ``dc.identifier``.

The rule, reversible and the same on every platform:

- the identifier is put in Unicode NFC first (a catalog saved on macOS and one saved on
  Linux name the same bag);
- every character that is not a letter, a mark or a digit (of any script), nor one of
  ``-``, ``_``, ``.``, ``~``, ``(``, ``)``, ``+``, ``,``, ``=``, ``@`` or ``'``, is written
  as ``%XX`` per byte of its UTF-8 form (RFC 3986 percent-encoding, upper-case hex), and
  so is ``%`` itself; a space becomes ``%20``;
- a leading ``.`` and a trailing ``.`` are encoded too (hidden files; Windows drops a
  trailing dot), and so is the first letter of a name Windows reserves (``CON``, ``NUL``,
  ``COM1``, ``LPT1`` ... with or without an extension);
- the result must fit in ``MAX_NAME_BYTES`` bytes of UTF-8 (a name component may hold
  255 on every common file system; the rest is kept for the staging directory's affixes).

So ``000_5e17403660513e1c`` stays as it is, ``Заявление 2022`` becomes
``Заявление%202022``, ``urn:nbn:kz:1`` becomes ``urn%3Anbn%3Akz%3A1`` and
``10.5281/zenodo.1`` becomes ``10.5281%2Fzenodo.1``; ``identifier_of`` undoes it.
Two identifiers share a bag only if they are the same identifier: ``collision_key`` is
what two names must differ in on a case-insensitive, normalizing file system (macOS,
Windows) too.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote

MAX_NAME_BYTES = 200
_KEPT = frozenset("-_.~()+,=@'")
_RESERVED = re.compile(r"^(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])(\..*)?$", re.IGNORECASE)


class IdentityError(ValueError):
    """An identifier that cannot name a bag (empty, or too long once encoded)."""


def _kept(char: str) -> bool:
    return char in _KEPT or unicodedata.category(char)[0] in "LMN"


def _encode(char: str) -> str:
    return "".join(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))


def bag_directory_name(identifier: str) -> str:
    """The directory name of the bag of the item ``identifier`` (IdentityError if none)."""
    text = unicodedata.normalize("NFC", identifier.strip())
    if not text:
        raise IdentityError("an empty identifier cannot name a bag")
    name = "".join(c if _kept(c) and c != "%" else _encode(c) for c in text)
    if name.startswith("."):
        name = _encode(".") + name[1:]
    if name.endswith("."):
        name = name[:-1] + _encode(".")
    if _RESERVED.match(name):
        name = _encode(name[0]) + name[1:]
    size = len(name.encode("utf-8"))
    if size > MAX_NAME_BYTES:
        raise IdentityError(
            f"identifier too long to name a bag ({size} bytes once encoded, at most "
            f"{MAX_NAME_BYTES})"
        )
    return name


def identifier_of(directory_name: str) -> str:
    """The identifier a bag directory name stands for (the inverse of
    ``bag_directory_name`` on the names it makes)."""
    return unquote(directory_name, encoding="utf-8", errors="strict")


def collision_key(directory_name: str) -> str:
    """What a bag name is on a file system that folds case and normalization: two bags
    whose keys are equal would be one directory there."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", directory_name).casefold())
