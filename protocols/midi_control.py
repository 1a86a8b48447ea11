"""Knobs and program changes: CCs set the current model's options, programs pick the model.

A CC's 0..127 is scaled onto the option's bounds (or choices) from the model's Options schema,
the same bounds every other front-end uses. Programs count the continue_midi models the MIDI
front-end exposes, in model-id order: program 0 is the first.
"""

from __future__ import annotations

import logging
from typing import Any

from host.core import Core
from host.model import Capability, InputKind, Model
from host.options import OptionSpec, option_specs
from protocols.midi_settings import MidiSettings

log = logging.getLogger(__name__)

PREFERRED_MODEL = "music-transformer"


class ModelControls:
    def __init__(self, core: Core, settings: MidiSettings) -> None:
        self.core = core
        self.settings = settings
        self._values: dict[str, dict[str, Any]] = {}  # model id -> option name -> value
        self.model_id: str | None = None
        self.select_default()

    # --- models ----------------------------------------------------------------------------
    def continue_models(self) -> list[Model]:
        return sorted(
            (
                model
                for model in self.core.exposed_models("midi")
                if Capability.CONTINUE_MIDI in model.capabilities and primer_input(model)
            ),
            key=lambda model: model.model_id,
        )

    def select_default(self) -> None:
        ids = [model.model_id for model in self.continue_models()]
        wanted = self.settings.model
        if wanted and wanted not in ids:
            log.warning(
                "[midi] model %r cannot continue MIDI here; available: %s",
                wanted,
                ", ".join(ids) or "none",
            )
        for candidate in (wanted, PREFERRED_MODEL):
            if candidate in ids:
                self.model_id = candidate
                return
        self.model_id = ids[0] if ids else None

    def current(self) -> Model | None:
        if self.model_id is None or self.model_id not in self.core.models:
            self.select_default()
        return self.core.models.get(self.model_id) if self.model_id else None

    def program_change(self, program: int) -> bool:
        models = self.continue_models()
        if not 0 <= program < len(models):
            log.warning(
                "program %d selects no model: %d continue_midi models (programs 0..%d): %s",
                program,
                len(models),
                len(models) - 1,
                ", ".join(m.model_id for m in models) or "none",
            )
            return False
        self.model_id = models[program].model_id
        log.info("MIDI program %d: model %s", program, self.model_id)
        return True

    # --- options ---------------------------------------------------------------------------
    def cc_map(self) -> dict[int, OptionSpec]:
        """CC number -> option of the current model."""
        model = self.current()
        if model is None:
            return {}
        specs = {spec.name: spec for spec in option_specs(model.Options)}
        if self.settings.options_cc:
            return {
                cc: specs[name] for cc, name in self.settings.options_cc.items() if name in specs
            }
        scalable = [spec for spec in specs.values() if _scalable(spec)]
        reserved = self.settings.reserved_ccs
        numbers = [n for n in range(self.settings.first_option_cc, 128) if n not in reserved]
        return dict(zip(numbers, scalable, strict=False))

    def control_change(self, control: int, value: int) -> OptionSpec | None:
        """Set the option mapped to `control`; returns its spec, or None if unmapped."""
        spec = self.cc_map().get(control)
        if spec is None or self.model_id is None:
            return None
        try:
            scaled = spec.scale_from_unit(value / 127.0)
        except ValueError:
            return None
        self._values.setdefault(self.model_id, {})[spec.name] = scaled
        return spec

    def options(self) -> dict[str, Any]:
        """Option values set by CC for the current model (the core adds defaults)."""
        return dict(self._values.get(self.model_id or "", {}))


def transcriber(core: Core) -> Model | None:
    """The model CC 14/15 transcribe with: `transcribe` if exposed on MIDI, else the first
    transcribe model (in id order) that takes an audio file."""
    models = sorted(
        (
            model
            for model in core.exposed_models("midi")
            if Capability.TRANSCRIBE in model.capabilities and audio_input(model)
        ),
        key=lambda model: (model.model_id != "transcribe", model.model_id),
    )
    return models[0] if models else None


def audio_input(model: Model) -> str | None:
    """The name of the model's audio-file input, if it has one."""
    for spec in model.inputs:
        if spec.kind is InputKind.AUDIO_FILE:
            return spec.name
    return None


def primer_input(model: Model) -> str | None:
    """The name of the model's notes input (the primer), if it has one."""
    for spec in model.inputs:
        if spec.kind is InputKind.NOTES:
            return spec.name
    return None


def _scalable(spec: OptionSpec) -> bool:
    return (
        bool(spec.choices)
        or spec.type == "bool"
        or (spec.minimum is not None and spec.maximum is not None)
    )
