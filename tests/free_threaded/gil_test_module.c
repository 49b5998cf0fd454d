/* A tiny extension module for the free-threading tests, built twice by
 * tests/free_threaded/CMakeLists.txt for the free-threaded interpreter:
 *  - snakepit_needs_gil declares nothing (no Py_mod_gil slot), as every
 *    extension written before free threading, so importing it turns the GIL
 *    back on, with a RuntimeWarning that names it;
 *  - snakepit_gil_free declares Py_MOD_GIL_NOT_USED and leaves it off.
 * MODULE_NAME (and GIL_NOT_USED for the second) come from the build. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define SNAKEPIT_CAT2(a, b) a##b
#define SNAKEPIT_CAT(a, b) SNAKEPIT_CAT2(a, b)
#define SNAKEPIT_STR2(a) #a
#define SNAKEPIT_STR(a) SNAKEPIT_STR2(a)

static PyModuleDef_Slot module_slots[] = {
#ifdef GIL_NOT_USED
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = SNAKEPIT_STR(MODULE_NAME),
    .m_doc = "snakepit-cpp test module: does nothing but load.",
    .m_size = 0,
    .m_slots = module_slots,
};

PyMODINIT_FUNC SNAKEPIT_CAT(PyInit_, MODULE_NAME)(void) { return PyModuleDef_Init(&module_def); }
