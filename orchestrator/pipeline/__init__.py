"""One request, in small steps: admission -> validation -> prompt (template + context) -> route -> accept -> answer.

No transport types here. `Pipeline` (run.py) runs Generate and StreamGenerate; `ModelDirectory` and
`TemplateOperations` serve the model and template RPCs.
"""

from orchestrator.pipeline.models import ModelDirectory
from orchestrator.pipeline.run import Pipeline
from orchestrator.pipeline.tasks import TaskPolicy, Tasks
from orchestrator.pipeline.templates import TemplateOperations

__all__ = ["ModelDirectory", "Pipeline", "TaskPolicy", "Tasks", "TemplateOperations"]
