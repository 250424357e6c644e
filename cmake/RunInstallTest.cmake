# RunInstallTest.cmake — run by ctest (test `install_find_package`) as
#   cmake -DSG_BUILD_DIR=... -DSG_PREFIX=... -DSG_CONSUMER_SOURCE=...
#         -DSG_CONSUMER_BINARY=... -DSG_GENERATOR=... -DSG_CXX_COMPILER=...
#         [-DSG_CONFIG=...] [-DSG_MAKE_PROGRAM=...] [-DSG_BOOST_DIR=...]
#         -P RunInstallTest.cmake
#
# 1. cmake --install <build dir> --prefix <prefix>   (fresh prefix)
# 2. configure tests/install_consumer with CMAKE_PREFIX_PATH=<prefix>
#    (find_package(spikegraph REQUIRED)), build it, run the executable.

foreach(_v SG_BUILD_DIR SG_PREFIX SG_CONSUMER_SOURCE SG_CONSUMER_BINARY SG_GENERATOR)
  if(NOT DEFINED ${_v} OR "${${_v}}" STREQUAL "")
    message(FATAL_ERROR "RunInstallTest.cmake: ${_v} is not set")
  endif()
endforeach()
if(NOT SG_CONFIG)
  set(SG_CONFIG Release)
endif()

function(_sg_step what)
  execute_process(COMMAND ${ARGN}
                  RESULT_VARIABLE _rc
                  OUTPUT_VARIABLE _out
                  ERROR_VARIABLE _out)
  if(NOT _rc EQUAL 0)
    list(JOIN ARGN " " _cmd)
    message("${_out}")
    message(FATAL_ERROR "install test: ${what} failed (${_rc})\nCommand: ${_cmd}")
  endif()
  message(STATUS "install test: ${what}: ok")
endfunction()

file(REMOVE_RECURSE "${SG_PREFIX}" "${SG_CONSUMER_BINARY}")

_sg_step("cmake --install"
  "${CMAKE_COMMAND}" --install "${SG_BUILD_DIR}" --prefix "${SG_PREFIX}" --config "${SG_CONFIG}")

if(NOT EXISTS "${SG_PREFIX}/include/spikegraph/spikegraph.hpp")
  message(FATAL_ERROR "install test: ${SG_PREFIX}/include/spikegraph/spikegraph.hpp was not installed")
endif()

set(_configure
  "${CMAKE_COMMAND}" -S "${SG_CONSUMER_SOURCE}" -B "${SG_CONSUMER_BINARY}"
  -G "${SG_GENERATOR}"
  "-DCMAKE_PREFIX_PATH=${SG_PREFIX}"
  "-DCMAKE_BUILD_TYPE=${SG_CONFIG}")
if(SG_CXX_COMPILER)
  list(APPEND _configure "-DCMAKE_CXX_COMPILER=${SG_CXX_COMPILER}")
endif()
if(SG_MAKE_PROGRAM)
  list(APPEND _configure "-DCMAKE_MAKE_PROGRAM=${SG_MAKE_PROGRAM}")
endif()
if(SG_BOOST_DIR)
  list(APPEND _configure "-DBoost_DIR=${SG_BOOST_DIR}")
endif()
_sg_step("configure consumer (find_package(spikegraph))" ${_configure})

_sg_step("build consumer"
  "${CMAKE_COMMAND}" --build "${SG_CONSUMER_BINARY}" --config "${SG_CONFIG}")

set(_exe "${SG_CONSUMER_BINARY}/spikegraph_install_consumer")
if(NOT EXISTS "${_exe}" AND EXISTS "${SG_CONSUMER_BINARY}/${SG_CONFIG}/spikegraph_install_consumer")
  set(_exe "${SG_CONSUMER_BINARY}/${SG_CONFIG}/spikegraph_install_consumer")
endif()
_sg_step("run consumer" "${_exe}")
