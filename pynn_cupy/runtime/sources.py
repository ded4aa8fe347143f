"""Where the CUDA kernel sources live and what they define."""
from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

_HERE = Path(__file__).resolve().parent
# Installed wheel: pynn_cupy/cuda; source checkout: <repo>/cuda.
_CANDIDATES = (_HERE.parent / "cuda", _HERE.parent.parent / "cuda")


def kernel_dir() -> Path:
    for candidate in _CANDIDATES:
        if (candidate / "common.cuh").is_file():
            return candidate
    raise FileNotFoundError("pynn_cupy: CUDA kernel sources not found (looked in %s)"
                            % ", ".join(str(c) for c in _CANDIDATES))


@lru_cache(maxsize=None)
def kernel_files() -> tuple[Path, ...]:
    return tuple(sorted(kernel_dir().glob("*.cu")))


# A kernel made by a macro of one argument, `#define MAKER(R) KERNEL void prefix_##R##_suffix(PARAMS) ...`,
# instantiated by lines `MAKER(4)`: found by name (prefix_4_suffix) and bound by parameter name as any other.
_KERNEL_MAKER = re.compile(r"^#define\s+(\w+)\((\w+)\)\s*(?:\\\n\s*)?KERNEL\s+void\s+([\w#]+)\s*\(([^)]*)\)",
                           re.MULTILINE)


def _signatures(text: str) -> dict[str, str]:
    """Kernel name -> its parameter list (text) for the kernels a source file defines, literally or by a macro."""
    signatures = {m.group(1): m.group(2) for m in _SIGNATURE.finditer(text)}
    for maker, argument, pattern, parameters in _KERNEL_MAKER.findall(text):
        for value in re.findall(r"^\s*%s\(\s*(\w+)\s*\)\s*;?\s*$" % maker, text, re.MULTILINE):
            signatures[pattern.replace("##%s##" % argument, value).replace("##%s" % argument, value)
                       .replace("%s##" % argument, value)] = parameters
    return signatures


@lru_cache(maxsize=None)
def kernel_names() -> dict[str, Path]:
    """Map each kernel name to the file that defines it."""
    names = {}
    for path in kernel_files():
        for name in _signatures(path.read_text()):
            names[name] = path
    return names


def unit_source() -> str:
    """One translation unit including every kernel file (what both targets compile)."""
    return "".join('#include "%s"\n' % path.name for path in kernel_files())


def sources_digest(*extra: str) -> str:
    digest = hashlib.sha256()
    for path in sorted(kernel_dir().iterdir()):
        if path.suffix in (".cu", ".cuh", ".hpp"):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    for item in extra:
        digest.update(item.encode())
    return digest.hexdigest()[:20]


def real_type(precision: str) -> str:
    return {"float32": "float", "float64": "double"}[precision]


_SIGNATURE = re.compile(r"^KERNEL\s+void\s+(\w+)\s*\(([^)]*)\)", re.MULTILINE)
_C_TYPES = {"int": "int32", "unsigned int": "uint32", "long long": "int64", "unsigned long long": "uint64",
            "float": "float32", "double": "float64", "unsigned char": "uint8", "unsigned short": "uint16"}


class Parameter(NamedTuple):
    name: str
    dtype: str     # numpy dtype name
    pointer: bool  # an array argument


@lru_cache(maxsize=None)
def kernel_parameters(name: str, precision: str) -> tuple[Parameter, ...]:
    """The parameters of a kernel, read from its source; macros of parameter lists are expanded from
    `#define NAME \\` blocks of the same file."""
    text = kernel_names()[name].read_text()
    macros = dict(re.findall(r"#define (\w+) \\\n((?:.*\\\n)*.*)", text))
    parameters = []
    for raw in _signatures(text)[name].split(","):
        raw = raw.strip()
        if raw in macros:
            parameters += [p.strip() for p in macros[raw].replace("\\\n", " ").split(",")]
        else:
            parameters.append(raw)
    real = real_type(precision)
    result = []
    for parameter in parameters:
        words = [w for w in parameter.replace("*", " * ").split() if w not in ("const", "RESTRICT")]
        pointer = "*" in words
        c_type = " ".join(w for w in words[:-1] if w != "*").replace("REAL", real)
        result.append(Parameter(words[-1], _C_TYPES[c_type], pointer))
    return tuple(result)


def bind(name: str, precision: str, arguments: dict) -> tuple:
    """The arguments of kernel `name` in the order of its signature, taken by parameter name from
    `arguments` (which may hold more) and checked by type; KeyError names what is missing."""
    parameters = kernel_parameters(name, precision)
    missing = [p.name for p in parameters if p.name not in arguments]
    if missing:
        raise KeyError("kernel %s: no argument for %s" % (name, ", ".join(missing)))
    args = tuple(arguments[p.name] for p in parameters)
    check_arguments(name, precision, args)
    return args


def check_arguments(name: str, precision: str, args) -> None:
    """Raise TypeError if the arguments' dtypes do not match the kernel's parameters."""
    expected = kernel_parameters(name, precision)
    if len(expected) != len(args):
        raise TypeError("kernel %s takes %d arguments, got %d" % (name, len(expected), len(args)))
    for (parameter, dtype, pointer), arg in zip(expected, args):
        is_array = hasattr(arg, "shape") and getattr(arg, "ndim", 0) > 0
        actual = str(arg.dtype)
        if pointer != is_array or actual != dtype:
            raise TypeError("kernel %s argument %s: expected %s%s, got %s%s" % (
                name, parameter, dtype, " array" if pointer else "", actual, " array" if is_array else ""))
