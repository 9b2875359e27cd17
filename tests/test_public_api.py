"""The pinned public API: what `import speechsift` exports. A change here is a deliberate one."""

import speechsift


def test_exported_members():
    assert sorted(speechsift.__all__) == [
        "AudioRef", "Clip", "ConfigError", "CorpusError", "Example", "Message", "Part", "Recipe",
        "SpeechsiftError", "__version__", "load_recipe",
    ]
    for name in speechsift.__all__:
        assert hasattr(speechsift, name), name
