"""The one registry helper and the three registries built on it (models, extractors, locators): the same
duplicate-name, unknown-name and bad-option behaviour everywhere."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from judgemind.errors import JudgemindError
from judgemind.features.base import EXTRACTORS, Extractor, register_extractor
from judgemind.models.base import MODELS, register_model
from judgemind.utils.registry import Registry
from judgemind.video.locators import LOCATORS, Locator, register_locator


class Thing:
    def __init__(self, size: int = 3, label: str = "x"):
        self.size, self.label = size, label


class Other:
    pass


@dataclass
class ThingConfig:
    depth: int = 2
    ALIASES = {"deep": "depth"}


def test_register_get_create_and_list():
    reg = Registry("widget")
    assert reg.register("thing", Thing, description="a thing") is Thing
    reg.register("other")(Other)  # decorator form
    assert reg.names() == ["other", "thing"] and reg.get("thing").description == "a thing"
    assert reg.create("thing", size=5).size == 5
    assert reg.option_names("thing") == ("size", "label")
    reg.register("thing", Thing)  # the same object again: a no-op
    assert reg.get("thing").obj is Thing


def test_a_duplicate_name_is_an_error_naming_registry_name_and_both_objects():
    reg = Registry("widget")
    reg.register("thing", Thing)
    with pytest.raises(
        JudgemindError,
        match=r"widget registry: 'thing' is registered twice, by .*Thing and by "
        r".*Other; give one of them another name",
    ):
        reg.register("thing", Other)
    assert reg.get("thing").obj is Thing  # the first one stays
    with pytest.raises(JudgemindError, match="widget registry: .* has no name"):
        reg.register("", Other)


def test_unknown_name_lists_the_available_ones():
    reg = Registry("widget", hint="`judgemind widgets` lists them")
    reg.register("thing", Thing)
    with pytest.raises(
        JudgemindError,
        match=r"unknown widget 'thng'; available: thing \(did you mean thing\?\) "
        r"\(`judgemind widgets` lists them\)",
    ):
        reg.get("thng")


def test_bad_options_name_registry_name_option_and_valid_ones():
    reg = Registry("widget")
    reg.register("thing", Thing)
    reg.register("configured", Other, config=ThingConfig)
    with pytest.raises(JudgemindError, match="widget 'thing' has no option colour; its options are size, label"):
        reg.create("thing", colour=1)
    with pytest.raises(JudgemindError, match="widget 'thing' option size='big': expected int, got str"):
        reg.create("thing", size="big")
    assert reg.check_options("configured", {"deep": 3}) == {"deep": 3}  # config fields and their aliases
    with pytest.raises(JudgemindError, match="widget 'configured' has no option width; its options are depth, deep"):
        reg.check_options("configured", {"width": 1})
    with pytest.raises(JudgemindError, match="must be a dataclass"):
        reg.register("bad", Other, config=Other)


# -- the three registries of judgemind ----------------------------------------------------------------------------


@pytest.mark.parametrize("registry", [MODELS, EXTRACTORS, LOCATORS], ids=lambda r: r.kind)
def test_every_registered_entry_refuses_an_unknown_option_the_same_way(registry):
    assert registry.names()
    for name in registry.names():
        valid = registry.option_names(name)
        assert valid is not None, f"{registry.kind} {name!r}: its options cannot be listed"
        listed = ", ".join(valid) or "none"
        with pytest.raises(
            JudgemindError,
            match=rf"^{registry.kind} '{name}' has no option no_such_option; its "
            rf"options are {listed}$",
        ):
            registry.check_options(name, {"no_such_option": 1})


def test_the_three_registries_refuse_a_second_object_under_a_taken_name():
    class Annotation2(Locator):
        name = "annotation"

    class Tiny2(Extractor):
        name = "tiny3d"

    LOCATORS.names(), EXTRACTORS.names(), MODELS.names()  # every built-in registered
    with pytest.raises(JudgemindError, match="locator registry: 'annotation' is registered twice"):
        register_locator(Annotation2)
    with pytest.raises(JudgemindError, match="extractor registry: 'tiny3d' is registered twice"):
        register_extractor(Tiny2)
    with pytest.raises(JudgemindError, match="model registry: 'mlp' is registered twice"):
        register_model("mlp", "again", config=ThingConfig)(lambda overrides, info: None)
    with pytest.raises(JudgemindError, match="model registry: 'newmodel' needs its config dataclass"):
        register_model("newmodel", "no config")(lambda overrides, info: None)


def test_a_bad_locator_value_is_a_judgemind_error_not_a_type_error():
    with pytest.raises(JudgemindError, match="locator 'motion' option history=.many.: expected int, got str"):
        LOCATORS.create("motion", history="many")
    with pytest.raises(JudgemindError, match="locator 'annotation' has no option margin; its options are none"):
        LOCATORS.create("annotation", margin=2)
