"""The sentence encoder fine-tuned on the team's labelled messages (the ``frontline[embeddings]`` extra).

A frozen sentence embedding knows what messages mean in general; fine-tuning teaches the encoder
which differences matter for escalation in this team's messages. The encoder (all-MiniLM-L6-v2 by
default, 6 layers, 384 dimensions) gets a one-logit head on its mean-pooled output, and the whole
network is trained for a few epochs with class-balanced binary cross-entropy (AdamW, linear decay,
batches of 16, messages cut to 64 tokens). On complaints_twitter this adds about 0.04 F1 over the
frozen embedding (see bench/bench_signals.py), at a few minutes of CPU time per training.

The tuned weights travel inside the escalation model file as float16 arrays with the name of the
base model they start from, so the file stays one file and loading rebuilds the network from the
base model's configuration without reaching a hub.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

EPOCHS = 3
LEARNING_RATE = 4e-5
BATCH = 16
MAX_TOKENS = 64
WEIGHT_DECAY = 0.01


@dataclass(frozen=True)
class Recipe:
    """How the encoder is fine-tuned."""

    epochs: int = EPOCHS
    learning_rate: float = LEARNING_RATE
    batch: int = BATCH
    max_tokens: int = MAX_TOKENS
    seed: int = 0


def _torch() -> Any:
    import torch  # type: ignore[import-not-found,unused-ignore]

    return torch


class TunedEncoder:
    """An encoder plus its escalation head; ``predict_proba`` gives P(escalation) per message."""

    def __init__(self, base: str, network: Any, tokenizer: Any, head: Any, max_tokens: int) -> None:
        self.base = base
        self._network = network.eval()
        self._tokenizer = tokenizer
        self._head = head.eval()
        self._max_tokens = max_tokens
        self._lock = threading.Lock()

    # -- training --------------------------------------------------------------------------------
    @classmethod
    def train(cls, texts: Sequence[str], gold: Sequence[bool], *, base: str, where: str,
              recipe: Recipe = Recipe()) -> TunedEncoder:
        """Fine-tune the encoder at ``where`` (named ``base``) on the labelled messages."""
        torch = _torch()
        from transformers import AutoModel, AutoTokenizer  # type: ignore[import-not-found,import-untyped,unused-ignore]

        torch.manual_seed(recipe.seed)
        network = AutoModel.from_pretrained(where, local_files_only=True)
        tokenizer = AutoTokenizer.from_pretrained(where, local_files_only=True)
        head = torch.nn.Linear(int(network.config.hidden_size), 1)
        tuned = cls(base, network, tokenizer, head, recipe.max_tokens)
        labels = np.asarray([bool(g) for g in gold], dtype=np.float32)
        positives = float(labels.sum())
        loss_of = torch.nn.BCEWithLogitsLoss(
            pos_weight=torch.tensor((len(labels) - positives) / max(positives, 1.0), dtype=torch.float32))
        parameters = [*network.parameters(), *head.parameters()]
        optimizer = torch.optim.AdamW(parameters, lr=recipe.learning_rate, weight_decay=WEIGHT_DECAY)
        steps = recipe.epochs * math.ceil(len(texts) / recipe.batch)
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: max(0.0, 1.0 - step / max(steps, 1)))
        order = np.random.default_rng(recipe.seed)
        network.train()
        head.train()
        for _ in range(recipe.epochs):
            shuffled = order.permutation(len(texts))
            for start in range(0, len(shuffled), recipe.batch):
                rows = shuffled[start:start + recipe.batch]
                optimizer.zero_grad()
                logits = tuned._logits([texts[i] for i in rows])
                loss = loss_of(logits, torch.from_numpy(labels[rows]))
                loss.backward()
                torch.nn.utils.clip_grad_norm_(parameters, 1.0)
                optimizer.step()
                schedule.step()
        # Keep the float16-rounded weights the model file will hold, so the saved model is this one.
        with torch.no_grad():
            network.load_state_dict({name: tensor.half().float() if tensor.is_floating_point() else tensor
                                     for name, tensor in network.state_dict().items()})
        network.eval()
        head.eval()
        return tuned

    def _logits(self, texts: Sequence[str]) -> Any:
        batch = self._tokenizer(list(texts), padding=True, truncation=True, max_length=self._max_tokens,
                                return_tensors="pt")
        hidden = self._network(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return self._head(pooled).squeeze(-1)

    # -- use -------------------------------------------------------------------------------------
    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """P(escalation) per message."""
        if not texts:
            return np.zeros(0, dtype=np.float64)
        torch = _torch()
        out = []
        with self._lock, torch.inference_mode():
            for start in range(0, len(texts), 64):
                chunk = [text if text.strip() else "." for text in texts[start:start + 64]]
                out.append(torch.sigmoid(self._logits(chunk)).double().numpy())
        return np.concatenate(out)

    # -- files -----------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """Everything needed to rebuild it on the base model: float16 weights, head and token limit."""
        weights = {name: (tensor.half() if tensor.is_floating_point() else tensor).detach().to("cpu").numpy()
                   for name, tensor in self._network.state_dict().items()}
        head = {name: tensor.detach().to("cpu").float().numpy() for name, tensor in self._head.state_dict().items()}
        return {"base": self.base, "weights": weights, "head": head, "max_tokens": self._max_tokens}

    @classmethod
    def from_state(cls, state: Mapping[str, Any], where: str) -> TunedEncoder:
        """Rebuild from :meth:`state` on the base model's configuration and tokenizer at ``where``."""
        torch = _torch()
        from transformers import (  # type: ignore[import-not-found,import-untyped,unused-ignore]
            AutoConfig,
            AutoModel,
            AutoTokenizer,
        )

        config = AutoConfig.from_pretrained(where, local_files_only=True)
        network = AutoModel.from_config(config)  # type: ignore[no-untyped-call,unused-ignore]
        weights = {name: torch.from_numpy(np.asarray(array, dtype=np.float32) if array.dtype == np.float16
                                          else np.asarray(array)) for name, array in dict(state["weights"]).items()}
        network.load_state_dict(weights, strict=True)
        tokenizer = AutoTokenizer.from_pretrained(where, local_files_only=True)
        head = torch.nn.Linear(int(config.hidden_size), 1)
        head.load_state_dict({name: torch.from_numpy(np.asarray(array, dtype=np.float32))
                              for name, array in dict(state["head"]).items()})
        return cls(str(state["base"]), network, tokenizer, head, int(state["max_tokens"]))
