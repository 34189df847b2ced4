"""Builds the C kernel of complaints.polarity; all metadata lives in pyproject.toml."""

import sys

from setuptools import Extension, setup

_POSIX = sys.platform != "win32"
# No fused multiply-add: the kernel must round exactly like CPython's float arithmetic; and
# link libm explicitly so log/exp bind to the same symbol versions as CPython's math module.
_FLAGS = ["-ffp-contract=off"] if _POSIX else []
_LIBS = ["m"] if _POSIX else []

setup(
    ext_modules=[
        Extension(
            "complaints.polarity._kernel",
            sources=["complaints/polarity/_kernel.c"],
            extra_compile_args=_FLAGS,
            libraries=_LIBS,
        )
    ]
)
