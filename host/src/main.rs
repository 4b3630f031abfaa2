fn main() {
    let dirs: Vec<std::path::PathBuf> = std::env::args().skip(1).map(Into::into).collect();
    let report = provisio_host::loader::load_dirs(&dirs);
    for (id, c) in &report.connectors { println!("loaded {id} from {}", c.path.display()); }
    for r in &report.rejected { println!("refused {r}"); }
}
