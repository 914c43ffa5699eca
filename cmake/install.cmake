# SPDX-License-Identifier: MIT
# Install rules for weft, included by the top-level CMakeLists.txt when
# WEFT_INSTALL is ON. They install:
#   <includedir>/weft.h, <includedir>/weft/*.h        the public headers
#   <libdir>/ (and <bindir>/ for a Windows DLL)         the library
#   <libdir>/cmake/weft/weft{Config,ConfigVersion,Targets*}.cmake
#       for find_package(weft CONFIG), giving the target weft::weft
#   <libdir>/pkgconfig/weft.pc                          for pkg-config weft
# Both package files are relocatable: `cmake --install build --prefix DIR`
# gives a tree that works wherever it is moved.

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(WEFT_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/weft" CACHE STRING
    "Where weft's CMake package files go, relative to the prefix")
mark_as_advanced(WEFT_INSTALL_CMAKEDIR)

# ---- Headers and library --------------------------------------------------------
install(FILES "${PROJECT_SOURCE_DIR}/include/weft.h"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
        COMPONENT weft_development)
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/weft/"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/weft"
        COMPONENT weft_development
        FILES_MATCHING PATTERN "*.h")

install(TARGETS weft EXPORT weftTargets
  RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}" COMPONENT weft_runtime
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT weft_runtime
          NAMELINK_COMPONENT weft_development
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT weft_development
  INCLUDES DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")

# ---- CMake package: find_package(weft CONFIG) -> weft::weft ---------------------
install(EXPORT weftTargets
  NAMESPACE weft::
  FILE weftTargets.cmake
  DESTINATION "${WEFT_INSTALL_CMAKEDIR}"
  COMPONENT weft_development)

if(WIN32)
  set(WEFT_NEEDS_THREADS OFF)
else()
  set(WEFT_NEEDS_THREADS ON)
endif()
if(BUILD_SHARED_LIBS)
  set(WEFT_LIBRARY_KIND shared)
else()
  set(WEFT_LIBRARY_KIND static)
endif()

configure_package_config_file(
  "${CMAKE_CURRENT_LIST_DIR}/weftConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/weftConfig.cmake"
  INSTALL_DESTINATION "${WEFT_INSTALL_CMAKEDIR}"
  NO_SET_AND_CHECK_MACRO
  NO_CHECK_REQUIRED_COMPONENTS_MACRO)
# Before 1.0 a minor version may change the API and the ABI (hence the
# SONAME libweft.so.0.MINOR, CMakeLists.txt): 0.1.x satisfies a request for
# 0.1, 0.2 does not.
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/weftConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}"
  COMPATIBILITY SameMinorVersion)
install(FILES
  "${PROJECT_BINARY_DIR}/weftConfig.cmake"
  "${PROJECT_BINARY_DIR}/weftConfigVersion.cmake"
  DESTINATION "${WEFT_INSTALL_CMAKEDIR}"
  COMPONENT weft_development)

# ---- pkg-config: weft.pc ----------------------------------------------------------
# prefix is found from the .pc file's own place (${pcfiledir}), so the tree
# can move; an absolute CMAKE_INSTALL_LIBDIR pins it instead.
set(WEFT_PC_DIR "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(WEFT_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH _weft_pc_up "/weft-prefix/${WEFT_PC_DIR}" "/weft-prefix")
  string(REGEX REPLACE "/$" "" _weft_pc_up "${_weft_pc_up}")
  set(WEFT_PC_PREFIX "\${pcfiledir}/${_weft_pc_up}")
endif()
foreach(_weft_dir IN ITEMS LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${_weft_dir}}")
    set(WEFT_PC_${_weft_dir} "${CMAKE_INSTALL_${_weft_dir}}")
  else()
    set(WEFT_PC_${_weft_dir} "\${prefix}/${CMAKE_INSTALL_${_weft_dir}}")
  endif()
endforeach()

# A static libweft needs its users to define WEFT_STATIC (see weft/base.h)
# and to link what weft links: the thread library on POSIX,
# Synchronization.lib (WaitOnAddress) on Windows.
set(WEFT_PC_CFLAGS "")
set(WEFT_PC_LIBS_PRIVATE "")
if(NOT BUILD_SHARED_LIBS)
  set(WEFT_PC_CFLAGS " -DWEFT_STATIC")
endif()
if(WIN32)
  set(WEFT_PC_LIBS_PRIVATE "-lsynchronization")
elseif(CMAKE_THREAD_LIBS_INIT)
  set(WEFT_PC_LIBS_PRIVATE "${CMAKE_THREAD_LIBS_INIT}")
else()
  # The C library has the threads (glibc >= 2.34, macOS); -pthread is still
  # what a POSIX compiler driver expects and costs nothing there.
  set(WEFT_PC_LIBS_PRIVATE "-pthread")
endif()

configure_file("${CMAKE_CURRENT_LIST_DIR}/weft.pc.in"
               "${PROJECT_BINARY_DIR}/weft.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/weft.pc"
        DESTINATION "${WEFT_PC_DIR}"
        COMPONENT weft_development)

# ---- The licence --------------------------------------------------------------------
install(FILES "${PROJECT_SOURCE_DIR}/LICENSE"
  DESTINATION "${CMAKE_INSTALL_DATADIR}/doc/weft"
  COMPONENT weft_development)
