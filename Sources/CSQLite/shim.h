// The system SQLite header, exposed to Swift as the CSQLite module.
#include <sqlite3.h>
