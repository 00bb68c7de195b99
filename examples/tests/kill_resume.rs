//! Soak, second phase: a multi-part `b2ctl upload` killed at random points several times and
//! resumed; the final object must be intact and no part the server verified may be sent
//! twice (the simulator counts successful part uploads: it must equal the part count).

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use b2_sim::{Faults, Sim};
use common::{file_id, Env};

#[test]
fn killed_at_random_points_and_resumed() {
    let part = 100_000usize;
    let parts = 24;
    let data: Vec<u8> = (0..part * parts - 777)
        .map(|i| ((i * 2_654_435_761) >> 11) as u8)
        .collect();
    let e = Env::start(
        "kill",
        Sim::builder().min_part_size(part as u64).faults(Faults {
            delay: Some(Duration::from_millis(60)),
            ..Faults::default()
        }),
    );
    let sim = &e.sim;
    let path = e.dir.join("big.bin");
    std::fs::write(&path, &data).expect("write");
    let b2ctl = |args: &[&str]| -> Command {
        let mut c = e.cmd(args);
        c.stdout(Stdio::null()).stderr(Stdio::null());
        c
    };
    assert!(b2ctl(&["bucket", "create", "kill-bucket"])
        .status()
        .expect("run")
        .success());
    let p = path.to_string_lossy().into_owned();
    let args = [
        "upload",
        "kill-bucket",
        p.as_str(),
        "big.bin",
        "--part-size",
        "100000",
        "--threads",
        "3",
    ];
    // Kill points: after a pseudo-random number of further successful parts each time.
    let mut seed = 0x2545_F491_4F6C_DD1Du64 ^ u64::from(std::process::id());
    let mut kills = 0;
    for _ in 0..4 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let target = sim.stats().uploads + 1 + seed % 4;
        let mut child = b2ctl(&args).spawn().expect("spawn");
        let t = Instant::now();
        while sim.stats().uploads < target && t.elapsed() < Duration::from_secs(30) {
            if child.try_wait().expect("wait").is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        if child.try_wait().expect("wait").is_none() {
            child.kill().expect("kill");
            kills += 1;
        }
        let _ = child.wait();
    }
    assert!(kills >= 3, "killed {kills} times");
    assert!(
        sim.stats().uploads < parts as u64,
        "not finished before the last run"
    );
    // What the killed runs left: `file parts` lists exactly the parts the simulator stored.
    let out = |args: &[&str]| {
        let o = b2ctl(args).stdout(Stdio::piped()).output().expect("run");
        assert!(o.status.success(), "b2ctl {args:?}");
        String::from_utf8(o.stdout).expect("utf8")
    };
    let unfinished = out(&["unfinished", "kill-bucket", "--json"]);
    let file_id = file_id(&unfinished);
    let listed = out(&["file", "parts", &format!("b2id://{file_id}"), "--json"]);
    let stored = sim.stats().uploads;
    assert!(stored > 0, "some parts were stored before the kills");
    assert_eq!(
        listed.matches("\"partNumber\":").count() as u64,
        stored,
        "{listed}"
    );
    assert_eq!(
        listed.matches("\"contentLength\":100000,").count() as u64,
        stored,
        "{listed}"
    );
    let text = out(&["file", "list-parts", &format!("b2id://{file_id}")]);
    assert_eq!(text.lines().count() as u64, stored, "{text}");
    sim.set_faults(Faults::default());
    assert!(b2ctl(&args).status().expect("run").success());
    assert_eq!(sim.file_bytes("kill-bucket", "big.bin"), Some(data));
    assert_eq!(sim.unfinished_large_files(), 0);
    assert_eq!(
        sim.stats().uploads,
        parts as u64,
        "every part stored exactly once: none sent twice after it was verified"
    );
    println!("killed {kills} times, resumed, {parts} parts stored once each");
}
