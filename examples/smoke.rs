use lockwatch::sync::Mutex;
fn main() {
    let a = Mutex::new(0);
    let b = Mutex::new(0);
    {
        let _a = a.lock().unwrap();
        let _b = b.lock().unwrap();
    }
    std::thread::spawn(move || {
        let _b = b.lock().unwrap();
        let _a = a.lock().unwrap();
    }).join().unwrap();
    let v: Vec<_> = (0..3).map(|_| Mutex::new(0)).collect();
    { let _x = v[0].lock().unwrap(); let _y = v[1].lock().unwrap(); }
    { let _x = v[1].lock().unwrap(); let _y = v[2].lock().unwrap(); }
    { let _x = v[0].lock().unwrap(); let _y = v[2].lock().unwrap(); }
    { let _x = v[2].lock().unwrap(); let _y = v[0].lock().unwrap(); }
    println!("{} reports", lockwatch::reports().len());
}
