# SPDX-License-Identifier: MIT
# weft's CI only (preset msvc-wine-atomics): CMAKE_PROJECT_weft_INCLUDE,
# read right after weft's project(). clang-cl defines __clang__ as well as
# _MSC_VER, so weft's sources take their gcc/clang branches (the __atomic
# builtins of src/atomic.h, _Thread_local); compile the library's own files
# with __clang__ undefined instead, so that they take the branches cl.exe
# takes. Tests and examples keep __clang__: Wine's math.h needs it for a
# constant INFINITY, and they test weft, not the compiler.
cmake_language(DEFER DIRECTORY "${PROJECT_SOURCE_DIR}"
  CALL target_compile_options weft PRIVATE /U__clang__)

# cl.exe compiles setjmp on x64 to a call to _setjmp, which the real
# vcruntime provides; Wine 8's import libraries name it only
# __intrinsic_setjmp (the same function: buffer, frame). The executor's
# weft_task_fail uses setjmp.
if(CMAKE_SIZEOF_VOID_P EQUAL 8)
  string(APPEND CMAKE_EXE_LINKER_FLAGS " /alternatename:_setjmp=__intrinsic_setjmp")
  string(APPEND CMAKE_SHARED_LINKER_FLAGS " /alternatename:_setjmp=__intrinsic_setjmp")
endif()
