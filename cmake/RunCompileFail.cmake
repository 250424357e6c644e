# RunCompileFail.cmake — run by ctest as `cmake -DSG_PARAMS=<file> -P RunCompileFail.cmake`.
#
# <file> (written by spikegraph_add_compile_fail_test) sets:
#   SG_COMPILER  C++ compiler          SG_SOURCE  file to compile
#   SG_INCLUDES  -I directories        SG_SYSTEM_INCLUDES  -isystem directories
#   SG_FLAGS     e.g. -std=c++20;-fsyntax-only
#   SG_DEFINES   extra -D flags        SG_EXPECT  FAIL or SUCCESS
#   SG_REGEX     (FAIL only) CMake regex the compiler output must match
#   SG_NAME      test name (for messages)

if(NOT SG_PARAMS OR NOT EXISTS "${SG_PARAMS}")
  message(FATAL_ERROR "RunCompileFail.cmake: SG_PARAMS (parameter file) missing")
endif()
include("${SG_PARAMS}")

set(_cmd "${SG_COMPILER}" ${SG_FLAGS} ${SG_DEFINES})
foreach(_inc IN LISTS SG_INCLUDES)
  list(APPEND _cmd "-I${_inc}")
endforeach()
foreach(_inc IN LISTS SG_SYSTEM_INCLUDES)
  list(APPEND _cmd "-isystem" "${_inc}")
endforeach()
list(APPEND _cmd "${SG_SOURCE}")

execute_process(
  COMMAND ${_cmd}
  RESULT_VARIABLE _rc
  OUTPUT_VARIABLE _out
  ERROR_VARIABLE _out)   # same variable: stdout and stderr interleaved

list(JOIN _cmd " " _cmd_text)

if(SG_EXPECT STREQUAL "SUCCESS")
  if(NOT _rc EQUAL 0)
    message("${_out}")
    message(FATAL_ERROR
      "${SG_NAME}: the control compilation (without SPIKEGRAPH_EXPECT_COMPILE_ERROR) "
      "FAILED (exit ${_rc}), so the file is not well-formed apart from the intended error.\n"
      "Command: ${_cmd_text}")
  endif()
  message(STATUS "${SG_NAME}: compiles as expected")
elseif(SG_EXPECT STREQUAL "FAIL")
  if(_rc EQUAL 0)
    message("${_out}")
    message(FATAL_ERROR
      "${SG_NAME}: compilation with SPIKEGRAPH_EXPECT_COMPILE_ERROR SUCCEEDED, "
      "but it must fail with output matching: ${SG_REGEX}\n"
      "Command: ${_cmd_text}")
  endif()
  if(NOT _rc MATCHES "^[0-9]+$")
    # execute_process could not run the compiler at all ("No such file ...").
    message(FATAL_ERROR "${SG_NAME}: could not run the compiler: ${_rc}\nCommand: ${_cmd_text}")
  endif()
  if(NOT _out MATCHES "${SG_REGEX}")
    message("${_out}")
    message(FATAL_ERROR
      "${SG_NAME}: compilation failed as expected (exit ${_rc}), but the compiler "
      "output above does not match the regex: ${SG_REGEX}\n"
      "Command: ${_cmd_text}")
  endif()
  message(STATUS "${SG_NAME}: fails to compile as expected (matched: ${CMAKE_MATCH_0})")
else()
  message(FATAL_ERROR "RunCompileFail.cmake: SG_EXPECT must be FAIL or SUCCESS, not '${SG_EXPECT}'")
endif()
