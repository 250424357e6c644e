# Runs one libFuzzer target for SECONDS from CORPUS (created and seeded with
# SEEDS, files that exist). Fails on any crash, sanitizer report, leak or timeout.
file(MAKE_DIRECTORY "${CORPUS}")
foreach(seed IN LISTS SEEDS)
  if(EXISTS "${seed}")
    file(COPY "${seed}" DESTINATION "${CORPUS}")
  endif()
endforeach()
execute_process(
  COMMAND "${BINARY}" -max_total_time=${SECONDS} -timeout=10 -rss_limit_mb=2048 -max_len=65536
          -print_final_stats=1 "${CORPUS}"
  RESULT_VARIABLE result
  OUTPUT_VARIABLE output
  ERROR_VARIABLE output)
string(REGEX MATCH "stat::number_of_executed_units: *[0-9]+" runs "${output}")
message(STATUS "${BINARY}: ${runs}")
if(NOT result EQUAL 0)
  message("${output}")
  message(FATAL_ERROR "fuzz target ${BINARY} failed (exit ${result})")
endif()
