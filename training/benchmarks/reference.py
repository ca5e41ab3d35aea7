"""Published figures to print beside ours, each with its source. Only figures with a source are
listed; a task/protocol without one shows a blank, never a guess.

Values are percentages as the papers print them (accuracy, or mAP for FSD50K).
"""

from __future__ import annotations

from dataclasses import dataclass

CLAP_2022 = "Elizalde et al. 2022, CLAP (arXiv 2206.04769), MS CLAP 2022"
CLAP_2023 = "Elizalde et al. 2023, Natural Language Supervision for General-Purpose Audio Representations (arXiv 2309.05767), MS CLAP 2023"
LAION = "Wu et al. 2023, Large-scale Contrastive Language-Audio Pretraining (arXiv 2211.06687), LAION-CLAP"


@dataclass(frozen=True)
class Reference:
    task: str
    protocol: str  # "zero-shot", or "supervised" (the paper's best supervised setting)
    value: float
    source: str


REFERENCES = (
    Reference("esc50", "zero-shot", 82.6, CLAP_2022),
    Reference("us8k", "zero-shot", 73.2, CLAP_2022),
    Reference("esc50", "zero-shot", 93.9, CLAP_2023),
    Reference("esc50", "zero-shot", 91.0, LAION),
    Reference("us8k", "zero-shot", 77.0, LAION),
    Reference("gtzan-genres", "zero-shot", 73.0, LAION),
    Reference("esc50", "supervised", 96.7, CLAP_2022),
    Reference("fsd50k", "supervised", 58.6, CLAP_2022),
)


def references_for(task: str, protocol: str) -> list[Reference]:
    """Zero-shot figures for zero-shot; the paper's supervised figures for any probe or fine-tune."""
    wanted = "zero-shot" if protocol == "zero-shot" else "supervised"
    return [r for r in REFERENCES if r.task == task and r.protocol == wanted]
