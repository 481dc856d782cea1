# dmlog_warnings(target): the one warning set every dmlog target is built with.
function(dmlog_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes
    -Wpointer-arith -Wvla -Wundef -Wnull-dereference -Wimplicit-fallthrough
    -Wno-unused-parameter)
  if(DMLOG_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  target_compile_definitions(${target} PRIVATE _GNU_SOURCE)
endfunction()
