/* The task-file loader (CSV/TSV with libcsv), every task: the first byte
 * picks the task and whether labels are required. */
#include "fuzz_common.h"
#include "mtbert/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const mtb_task task = (mtb_task)(data[0] % MTB_N_TASKS);
    const bool want_labels = (data[0] >> 4) & 1;
    const char *path = fuzz_file("task.csv", data + 1, size - 1);
    mtb_dataset ds;
    mtb_dataset_init(&ds, task);
    mtb_error err = {0};
    if (mtb_dataset_load(&ds, path, want_labels, &err) == 0 && ds.n >= 2) {
        mtb_dataset val;
        mtb_dataset_init(&val, task);
        mtb_dataset_split(&ds, &val, 0.5, 1, &err);
        mtb_dataset_free(&val);
    }
    mtb_dataset_free(&ds);
    return 0;
}
