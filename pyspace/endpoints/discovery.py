"""Finding a widget's HTTP endpoints in its server code, without running it.

`@anvil.server.http_endpoint("/items/:id", methods=["GET"], enable_cors=True)` (or `route`) is
read from the code's syntax tree: the path and the options must be literals (strings, lists,
True/False), as they nearly always are. An endpoint whose path is computed is not published.
Matching a request path works as Anvil's: `:name` stands for one path segment.
"""

import ast
import re
from dataclasses import dataclass, field

DECORATOR_NAMES = ("http_endpoint", "route")
DEFAULT_METHODS = ("GET", "POST")


@dataclass(frozen=True)
class Endpoint:
    """One endpoint the code declares."""

    path: str
    function: str
    methods: tuple[str, ...] = DEFAULT_METHODS
    authenticate_users: bool = False
    require_credentials: bool = False
    enable_cors: bool = False
    # The browser's anvil.server.session of the widget is shared with requests carrying the
    # site's session cookie (the session only: the request stays anonymous).
    cross_site_session: bool = False
    names: tuple[str, ...] = field(default=())

    @property
    def pattern(self) -> re.Pattern:
        parts = re.split(r"(:[^/]*)", self.path)
        return re.compile(
            "".join("([^/]*)" if part.startswith(":") else re.escape(part) for part in parts)
        )


def _decorator_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return None


def _literal(node: ast.expr):
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def _endpoint(decorator: ast.Call, function: str) -> Endpoint | None:
    options = {keyword.arg: _literal(keyword.value) for keyword in decorator.keywords}
    path = _literal(decorator.args[0]) if decorator.args else options.get("path")
    if not isinstance(path, str) or not path.startswith("/"):
        return None
    methods = options.get("methods") or DEFAULT_METHODS
    if not isinstance(methods, list | tuple) or not all(isinstance(m, str) for m in methods):
        methods = DEFAULT_METHODS
    return Endpoint(
        path=path,
        function=function,
        methods=tuple(method.upper() for method in methods),
        authenticate_users=bool(
            options.get("authenticate_users") or options.get("authenticate_user")
        ),
        require_credentials=bool(options.get("require_credentials")),
        enable_cors=bool(options.get("enable_cors")),
        cross_site_session=bool(options.get("cross_site_session")),
        names=tuple(re.findall(r":([^/]*)", path)),
    )


def endpoints_in(code: str) -> list[Endpoint]:
    """The endpoints `code` declares, in the order written (none if it does not parse)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return []
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for decorator in node.decorator_list:
            if isinstance(decorator, ast.Call) and _decorator_name(decorator.func) in (
                DECORATOR_NAMES
            ):
                endpoint = _endpoint(decorator, node.name)
                if endpoint is not None:
                    found.append(endpoint)
    return found


def match(endpoints: list[Endpoint], path: str) -> tuple[Endpoint, dict[str, str]] | None:
    """The endpoint `path` ("/items/42") reaches and its path parameters, or None."""
    for endpoint in endpoints:
        found = endpoint.pattern.fullmatch(path)
        if found:
            return endpoint, dict(zip(endpoint.names, found.groups(), strict=True))
    return None
