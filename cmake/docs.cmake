# SPDX-License-Identifier: MIT
# The API reference, included by CMakeLists.txt when weft is the top-level
# project. When Doxygen is installed, `cmake --build <build> --target docs`
# writes the HTML to <build>/docs/html and Doxygen's warnings to
# <build>/docs/warnings.log (ci/docs.sh fails when that log is not empty).
# Without Doxygen there is no docs target, and the rest of the build is
# unaffected.

find_package(Doxygen QUIET)
if(NOT DOXYGEN_FOUND)
  message(STATUS "weft: Doxygen not found, no docs target")
  return()
endif()

set(WEFT_DOCS_DIR "${PROJECT_BINARY_DIR}/docs")

# The front page is docs/mainpage.md followed by the README's "Python → weft"
# section: one table, kept in the README, is also the reference's first
# page. Re-read whenever either file changes.
set(_weft_readme "${PROJECT_SOURCE_DIR}/README.md")
set(_weft_mainpage "${PROJECT_SOURCE_DIR}/docs/mainpage.md")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_weft_readme}" "${_weft_mainpage}")
file(READ "${_weft_readme}" _weft_readme_text)
string(FIND "${_weft_readme_text}" "\n## Python → weft\n" _weft_from)
if(_weft_from LESS 0)
  message(FATAL_ERROR "weft docs: README.md has no \"## Python → weft\" section")
endif()
string(SUBSTRING "${_weft_readme_text}" ${_weft_from} -1 _weft_python)
string(SUBSTRING "${_weft_python}" 1 -1 _weft_python)
string(FIND "${_weft_python}" "\n## " _weft_to)
string(SUBSTRING "${_weft_python}" 0 ${_weft_to} _weft_python)
file(READ "${_weft_mainpage}" _weft_front)
file(WRITE "${WEFT_DOCS_DIR}/mainpage.md" "${_weft_front}\n${_weft_python}\n")

configure_file("${PROJECT_SOURCE_DIR}/docs/Doxyfile.in" "${WEFT_DOCS_DIR}/Doxyfile" @ONLY)

file(GLOB _weft_public_headers CONFIGURE_DEPENDS
     "${PROJECT_SOURCE_DIR}/include/weft.h" "${PROJECT_SOURCE_DIR}/include/weft/*.h")
# The HTML is removed first so that pages of symbols that no longer exist
# do not linger; Doxygen rewrites the warnings log on every run.
add_custom_target(docs
  COMMAND "${CMAKE_COMMAND}" -E rm -rf "${WEFT_DOCS_DIR}/html"
  COMMAND Doxygen::doxygen "${WEFT_DOCS_DIR}/Doxyfile"
  WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}"
  SOURCES "${PROJECT_SOURCE_DIR}/docs/Doxyfile.in" ${_weft_public_headers}
  COMMENT "Doxygen: the API reference in ${WEFT_DOCS_DIR}/html"
  VERBATIM)
message(STATUS "weft: Doxygen ${DOXYGEN_VERSION}, target docs -> ${WEFT_DOCS_DIR}/html")
