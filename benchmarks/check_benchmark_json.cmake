# cmake -DPROGRAM=<benchmark program> [-DCOUNT_FIELD=trials] -P check_benchmark_json.cmake
# Runs a tiny configuration of event_prop_benchmark, eprop_benchmark or
# inference_benchmark with two stand-in peers and checks the JSON lines: the
# fields run_suite.sh and make_report.py rely on, how many timed runs there
# were (COUNT_FIELD: the training benchmarks' "trials", inference_benchmark's
# "passes"), a ratio
# for the peer that reported a figure, and none for the one that was
# unavailable.
cmake_minimum_required(VERSION 3.22)
if(NOT PROGRAM)
  message(FATAL_ERROR "give -DPROGRAM=<path of the benchmark program>")
endif()
if(NOT COUNT_FIELD)
  set(COUNT_FIELD trials)
endif()

# The program appends "--benchmark ... --inputs DIR ..." to a peer command;
# the trailing '#' makes those arguments a shell comment.
set(_ok_peer "standin=echo '{\"peer\": \"standin\", \"status\": \"ok\", \"samples_per_s\": 50, \"version\": \"0\"}' #")
set(_missing_peer "missing=echo '{\"peer\": \"missing\", \"status\": \"unavailable\", \"reason\": \"not installed\"}'; exit 3 #")
execute_process(
  COMMAND "${PROGRAM}" --timesteps 20 --examples 8 --batch 4 --repeats 1 --seconds 0.2 --threads 1
          --memory-bandwidth-gbs 10 --peer "${_ok_peer}" --peer "${_missing_peer}"
  OUTPUT_VARIABLE _out ERROR_VARIABLE _err RESULT_VARIABLE _rc TIMEOUT 50)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} exited with ${_rc}:\n${_err}")
endif()

string(STRIP "${_out}" _out)
string(REPLACE "\n" ";" _lines "${_out}")
list(LENGTH _lines _count)
if(NOT _count EQUAL 2)
  message(FATAL_ERROR "expected 2 JSON lines (one per peer), got ${_count}:\n${_out}")
endif()

function(_json_get out line key)
  string(JSON _value ERROR_VARIABLE _error GET "${line}" ${key})
  if(_error)
    message(FATAL_ERROR "field '${key}' missing (${_error}) in:\n${line}")
  endif()
  set(${out} "${_value}" PARENT_SCOPE)
endfunction()

list(GET _lines 0 _with_ratio)
list(GET _lines 1 _without_ratio)
foreach(_line IN ITEMS "${_with_ratio}" "${_without_ratio}")
  foreach(_key benchmark backend timesteps batch threads samples_per_s synaptic_events_per_s peak_memory_mib
               memory_bandwidth_gb_s roofline_bound_events_per_s roofline_fraction peer peer_status)
    _json_get(_value "${_line}" ${_key})
  endforeach()
  _json_get(_samples "${_line}" samples_per_s)
  if(NOT _samples GREATER 0)
    message(FATAL_ERROR "samples_per_s is ${_samples}, expected > 0:\n${_line}")
  endif()
  _json_get(_timesteps "${_line}" timesteps)
  if(NOT _timesteps EQUAL 20)
    message(FATAL_ERROR "timesteps is ${_timesteps}, expected 20")
  endif()
  _json_get(_count "${_line}" ${COUNT_FIELD})
  if(NOT _count GREATER 0)
    message(FATAL_ERROR "${COUNT_FIELD} is ${_count}, expected at least 1:\n${_line}")
  endif()
endforeach()

_json_get(_peer "${_with_ratio}" peer)
_json_get(_status "${_with_ratio}" peer_status)
_json_get(_peer_samples "${_with_ratio}" peer_samples_per_s)
_json_get(_ratio "${_with_ratio}" ratio_vs_peer)
if(NOT _peer STREQUAL "standin" OR NOT _status STREQUAL "ok" OR NOT _peer_samples EQUAL 50 OR NOT _ratio GREATER 0)
  message(FATAL_ERROR "the stand-in peer's line should carry its figure and a ratio:\n${_with_ratio}")
endif()

_json_get(_peer "${_without_ratio}" peer)
_json_get(_status "${_without_ratio}" peer_status)
string(JSON _ratio ERROR_VARIABLE _no_ratio GET "${_without_ratio}" ratio_vs_peer)
if(NOT _peer STREQUAL "missing" OR NOT _status MATCHES "^unavailable \\(exit 3: not installed\\)$" OR NOT _no_ratio)
  message(FATAL_ERROR "an unavailable peer's line must say so and carry no ratio:\n${_without_ratio}")
endif()
message(STATUS "benchmark JSON lines OK")
