/* engine.c: placeholder translation unit until the engine lands (see engine.h). */
#include "engine.h"
