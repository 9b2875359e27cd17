"""Metadata rendered as text for prompts."""

from speechsift.render.audio_context import OMNI_FIELD_ORDER, neutralize_tags, render_audio_context

__all__ = ["OMNI_FIELD_ORDER", "neutralize_tags", "render_audio_context"]
