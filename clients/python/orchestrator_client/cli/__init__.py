"""The command line for people: `orchestrator-client generate | templates | models` talks gRPC to a server.

The server's `orchestrator` command offers the same subcommands through `add_client_commands` and
`run_client_command`. This module builds only the parsers; a command's module (and what it needs) is imported
when the command runs, so `orchestrator serve` pays nothing for them.

Exit status: 0 on success, the gRPC status code number when a call fails (INVALID_ARGUMENT = 3, NOT_FOUND = 5,
UNAVAILABLE = 14, ...), 2 for a command line that cannot be used (argparse's convention).
"""

from __future__ import annotations

import argparse
import os
import sys

__all__ = ["DEFAULT_TARGET", "add_client_commands", "main", "run_client_command"]

DEFAULT_TARGET = "localhost:50051"
FORMATS = ("text", "json", "code", "markdown")


def _connection_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("connection and output")
    group.add_argument(
        "--target",
        default=os.environ.get("ORCHESTRATOR_TARGET", DEFAULT_TARGET),
        help=f"server address host:port (default: $ORCHESTRATOR_TARGET or {DEFAULT_TARGET})",
    )
    group.add_argument(
        "--key",
        default=os.environ.get("ORCHESTRATOR_API_KEY"),
        help="API key, sent as `authorization: Bearer KEY` (default: $ORCHESTRATOR_API_KEY)",
    )
    group.add_argument("--timeout", type=float, default=120.0, help="deadline of each call in seconds (default 120)")
    group.add_argument("--json", action="store_true", help="print JSON for scripts instead of text for people")
    return common


def _variables(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a template variable (repeatable); VALUE is a string, or JSON after NAME:= (e.g. n:=3)",
    )


def _add_generate(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    cmd = commands.add_parser("generate", parents=[common], help="generate text, code or JSON with a model")
    cmd.add_argument("--template", "-t", help="template id to render")
    cmd.add_argument("--template-version", default="", help="template version (default: the latest)")
    _variables(cmd)
    cmd.add_argument("--message", "-m", action="append", default=[], help="a user message (repeatable)")
    cmd.add_argument("--system", help="a system message placed before the messages")
    cmd.add_argument("--task", default="", help="task type (selects routing defaults), e.g. code_generation")
    cmd.add_argument("--format", choices=FORMATS, help="answer format (default: text)")
    cmd.add_argument("--schema", metavar="FILE", help="JSON Schema file the answer must satisfy (implies json)")
    cmd.add_argument("--model", help="preferred model (name or alias)")
    cmd.add_argument("--max-tokens", type=int, help="upper bound on the answer's length in tokens")
    cmd.add_argument("--temperature", type=float, help="sampling temperature, 0.0 to 2.0")
    cmd.add_argument("--stream", action="store_true", help="print tokens as they arrive")
    cmd.set_defaults(client_command=("generate", "generate"))


def _add_templates(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    templates = commands.add_parser("templates", help="list, show, create, render and delete prompt templates")
    actions = templates.add_subparsers(dest="templates_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", parents=[common], help="list templates (latest versions)")
    listing.add_argument("--use-case", default="", help="only templates with this use case")
    listing.set_defaults(client_command=("templates", "list_templates"))
    for name, helptext, handler in (
        ("show", "show one template", "show_template"),
        ("render", "render a template without calling a model (the final messages and their tokens)", "render"),
        ("delete", "delete one version, or every version, of a template", "delete_template"),
    ):
        action = actions.add_parser(name, parents=[common], help=helptext)
        action.add_argument("template_id")
        action.add_argument("--version", default="", help="template version (default: the latest; delete: all)")
        action.set_defaults(client_command=("templates", handler))
        if name == "render":
            _variables(action)
            action.add_argument("--model", default="", help="count tokens with this model's tokenizer")
        if name == "delete":
            action.add_argument("--etag", default="", help="only delete if the template still has this etag")
    create = actions.add_parser("create", parents=[common], help="register a template (a new version if it exists)")
    create.add_argument("-f", "--file", required=True, help="template file, YAML or JSON (as in templates/)")
    create.set_defaults(client_command=("templates", "create_template"))


def add_client_commands(commands: argparse._SubParsersAction) -> None:
    """Add `generate`, `templates`, `models` and `usage` to a command line's subparsers."""
    common = _connection_options()
    _add_generate(commands, common)
    _add_templates(commands, common)
    models = commands.add_parser("models", parents=[common], help="list the models, their prices and availability")
    models.set_defaults(client_command=("models", "models"))
    usage = commands.add_parser("usage", parents=[common], help="budgets used by your service (admins: any)")
    usage.add_argument("--service", help="the service to report on (admins only; default: your own)")
    usage.set_defaults(client_command=("usage", "usage"))


def run_client_command(args: argparse.Namespace) -> int | None:
    """Run the client command that `args` selects and return its exit status; None if it selects none."""
    selected = getattr(args, "client_command", None)
    if selected is None:
        return None
    from orchestrator_client.cli._runner import run

    return run(args, *selected)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="orchestrator-client", description="Command line for the LLM Orchestrator")
    add_client_commands(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    status = run_client_command(parser.parse_args(argv))
    return 0 if status is None else status


if __name__ == "__main__":
    sys.exit(main())
