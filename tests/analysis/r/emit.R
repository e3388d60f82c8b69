# Shared by the reference scripts: one line per vector, "label|field|v1,v2,..." with 15
# significant digits (NA for a missing value), so the Python tests read every number R printed.
emit <- function(label, field, values) {
  v <- ifelse(is.na(values), "NA", sprintf("%.15g", as.numeric(values)))
  cat(label, "|", field, "|", paste(v, collapse = ","), "\n", sep = "")
}
read_data <- function(name) read.csv(file.path("..", "data", paste0(name, ".csv")))
