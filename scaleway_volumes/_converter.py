"""The one cattrs converter: JSON data <-> every model of both APIs.

Strict about types (``"10"`` is not a size, ``"abc"`` is not a list of tags)
and lenient about shape (unknown keys are ignored, missing optional keys
default), so a field the API adds tomorrow never breaks a deployed client.
Renames: the JSON ``class`` is the attribute ``class_``. All hooks are built
once, at import.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from ._block_models import (
    BlockSnapshot,
    BlockVolume,
    BlockVolumeSpecs,
    BlockVolumeType,
    Money,
    SnapshotParentVolume,
    VolumeReference,
)
from ._decoding import parse_datetime, visible_tags
from ._models import Volume, VolumeServer

__all__ = ["converter", "make_converter"]

_MODELS: tuple[type[Any], ...] = (
    VolumeServer,
    Volume,
    VolumeReference,
    BlockVolumeSpecs,
    BlockVolume,
    SnapshotParentVolume,
    BlockSnapshot,
    Money,
    BlockVolumeType,
)
# Models whose JSON has a ``class`` key.
_CLASS_RENAMED: tuple[type[Any], ...] = (BlockVolumeSpecs, BlockSnapshot)


def _structure_int(value: Any, _: Any) -> int:
    # bool is an int subclass, and cattrs' default int(value) would accept "10" or 10.7.
    if type(value) is not int:
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    return value


def _structure_bool(value: Any, _: Any) -> bool:
    # Registered for bool, which would take int's hook (its base class): refused true, kept 0.
    if type(value) is not bool:
        raise TypeError(f"expected a boolean, got {type(value).__name__}")
    return value


def _structure_int64(value: Any, _: Any) -> int:
    # Protobuf's JSON mapping writes 64-bit integers as strings; prices may come so.
    if type(value) is str and value.lstrip("-").isdigit() and value.isascii():
        return int(value)
    return _structure_int(value, _)


def _structure_str(value: Any, _: Any) -> str:
    # cattrs' default str(value) would turn 123 or None into a string.
    if type(value) is not str:
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _structure_tags(value: Any, _: Any) -> tuple[str, ...]:
    # A bare string would otherwise become a tuple of its characters.
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"expected a list of strings, got {type(value).__name__}")
    for item in value:
        if type(item) is not str:
            raise TypeError(f"expected a list of strings, got an item of {type(item).__name__}")
    return visible_tags(value)


def _structure_datetime(value: Any, _: Any) -> datetime:
    if type(value) is not str:
        raise TypeError(f"expected an RFC 3339 string, got {type(value).__name__}")
    return parse_datetime(value)


def _objects_only(hook: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """``hook`` for a JSON object only.

    For a model whose every field has a default, cattrs' hook reads any value
    (``"specs": []``, ``"specs": "sbs"``) as an object without those keys: the
    defaults. A model with a required field already refuses one.
    """

    def structure(value: Any, type_: Any) -> Any:
        if not isinstance(value, Mapping):
            raise TypeError(f"expected an object, got {type(value).__name__}")
        return hook(value, type_)

    return structure


def _all_optional(cls: type[Any]) -> bool:
    return all(field.default is not attrs.NOTHING for field in attrs.fields(cls))


def _is_tags(type_: Any) -> bool:
    return bool(type_ == tuple[str, ...])


def _register_list_of(conv: cattrs.Converter, item: type[Any]) -> None:
    """``tuple[item, ...]`` from a JSON list only (cattrs would iterate a dict's keys)."""
    seq: Any = tuple[item, ...]  # type: ignore[valid-type]
    default = conv.get_structure_hook(seq)
    unstructure_item = conv.get_unstructure_hook(item)

    def structure(value: Any, type_: Any) -> tuple[Any, ...]:
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"expected a list, got {type(value).__name__}")
        result: tuple[Any, ...] = default(value, type_)
        return result

    def unstructure(value: tuple[Any, ...]) -> list[Any]:
        return [unstructure_item(v) for v in value]

    conv.register_structure_hook_func(lambda t: bool(t == seq), structure)
    conv.register_unstructure_hook_func(lambda t: bool(t == seq), unstructure)


def make_converter(*, forbid_extra_keys: bool = False) -> cattrs.Converter:
    """Build a converter with this library's hooks.

    The public ``scaleway_volumes.converter`` is ``make_converter()``; tests use
    ``make_converter(forbid_extra_keys=True)`` to catch fields a model forgot.

    ```python
    from scaleway_volumes import BlockVolume, Volume, converter

    volume = converter.structure(payload["volume"], Volume)
    block = converter.structure(payload, BlockVolume)
    payload = converter.unstructure(block)  # JSON names: "class", "type", lists
    ```
    """
    conv = cattrs.Converter(forbid_extra_keys=forbid_extra_keys)
    conv.register_structure_hook(int, _structure_int)
    conv.register_structure_hook(bool, _structure_bool)
    conv.register_structure_hook(str, _structure_str)
    conv.register_structure_hook_func(_is_tags, _structure_tags)
    conv.register_structure_hook(datetime, _structure_datetime)
    conv.register_unstructure_hook(datetime, datetime.isoformat)
    conv.register_unstructure_hook_func(_is_tags, list)
    # Before the classes whose hooks are generated below: a hook is built with
    # the hooks of its fields as they are then (a snapshot's ``references``
    # took cattrs' own tuple hook, which reads ``{}`` or ``""`` as empty).
    _register_list_of(conv, VolumeReference)
    for cls in _CLASS_RENAMED:
        rename = override(rename="class")
        conv.register_structure_hook(
            cls,
            make_dict_structure_fn(
                cls, conv, _cattrs_forbid_extra_keys=forbid_extra_keys, class_=rename
            ),
        )
        conv.register_unstructure_hook(cls, make_dict_unstructure_fn(cls, conv, class_=rename))
    int64 = override(struct_hook=_structure_int64)
    conv.register_structure_hook(
        Money,
        make_dict_structure_fn(
            Money, conv, _cattrs_forbid_extra_keys=forbid_extra_keys, units=int64, nanos=int64
        ),
    )
    # Like references above, before the hooks of the models holding them are built.
    for cls in _MODELS:
        if _all_optional(cls):
            conv.register_structure_hook(cls, _objects_only(conv.get_structure_hook(cls)))
    # Prime the generated functions now so the first request pays nothing.
    for cls in _MODELS:
        conv.get_structure_hook(cls)
        conv.get_unstructure_hook(cls)
    return conv


converter = make_converter()
