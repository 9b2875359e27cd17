"""The smallest Qwen2-Audio model folder a trainer's data loading accepts, built here with no
download: Whisper's feature extractor with its defaults, a byte-level BPE tokenizer trained on a
few sentences with Qwen2-Audio's special tokens, the processor joining them, and a config.json
naming the model type (tiny sizes; no weights: data loading needs none).

    python tiny_qwen2_audio.py FOLDER
"""

from __future__ import annotations

import sys
from pathlib import Path

# Qwen2-Audio's special tokens: the chat template's and the audio frame (its tokenizer_config.json)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|AUDIO|>", "<|audio_bos|>", "<|audio_eos|>"]
CORPUS = [
    "You are a helpful assistant.", "Transcribe: what is said in the recording?",
    "Sounds like a young woman speaking in a calm voice.", "Die Aufnahme ist kurz und gut zu verstehen.",
    "Which recording is faster, the first or the second?", "system user assistant Audio 1: Audio 2:",
]
CHAT_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def build(folder: Path) -> Path:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import (PreTrainedTokenizerFast, Qwen2AudioConfig, Qwen2AudioProcessor,
                              WhisperFeatureExtractor)

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=600, special_tokens=SPECIAL_TOKENS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    bpe.train_from_iterator(CORPUS * 20, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                        additional_special_tokens=SPECIAL_TOKENS[3:])
    tokenizer.chat_template = CHAT_TEMPLATE
    processor = Qwen2AudioProcessor(feature_extractor=WhisperFeatureExtractor(), tokenizer=tokenizer,
                                    chat_template=CHAT_TEMPLATE)
    config = Qwen2AudioConfig(
        audio_config={"d_model": 16, "encoder_layers": 1, "encoder_attention_heads": 2, "encoder_ffn_dim": 32},
        text_config={"model_type": "qwen2", "vocab_size": len(tokenizer), "hidden_size": 16, "intermediate_size": 32,
                     "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1},
        audio_token_index=tokenizer.convert_tokens_to_ids("<|AUDIO|>"),
    )
    folder.mkdir(parents=True, exist_ok=True)
    processor.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    config.save_pretrained(folder)
    return folder


if __name__ == "__main__":
    print(build(Path(sys.argv[1])))
